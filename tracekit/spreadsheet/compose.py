"""A new row for a session the log lacks, written the way the sheet already writes its rows.

Each value copies the column's most recent filled cells: a date cell with their number format
(or their text pattern), the sport word the sheet uses for that sport ("Bike" rather than
"Ride"), the distance in the sheet's unit and decimals, the duration as "1:02:03", "62:03",
an Excel time or a number, and a provider id as a plain id or a link like the others.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracekit.providers.base import NewEntry
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport, from_label
from tracekit.spreadsheet.mapping import ID_FIELDS, DistanceUnit, SheetField, SheetMapping
from tracekit.spreadsheet.rows import column_indexes
from tracekit.spreadsheet.table import SheetKind, SheetTable
from tracekit.spreadsheet.values import (
    CellError,
    CellValue,
    distance_value,
    duration_cell,
    duration_format_of,
    has_written_unit,
    is_blank,
    parse_date,
)
from tracekit.spreadsheet.writer import NewCell

SAMPLE_ROWS = 20


def local_start(entry: NewEntry, home_zone: str | None) -> tuple[date, time | None]:
    """The session's local date and wall clock (None for a date-only session)."""
    if entry.start_local is not None:
        local = entry.start_local
    elif entry.start_utc is not None:
        local = entry.start_utc.astimezone(UTC)
        for zone in (entry.timezone, home_zone):
            if not zone:
                continue
            try:
                local = entry.start_utc.astimezone(ZoneInfo(zone))
                break
            except (ZoneInfoNotFoundError, ValueError):
                continue
        local = local.replace(tzinfo=None)
    else:
        raise ValueError("a new entry needs a start (a local date or an instant)")
    return local.date(), None if entry.date_only else local.time().replace(microsecond=0)


def _samples(table: SheetTable, index: int | None) -> list[tuple[CellValue, str | None]]:
    if index is None:
        return []
    found = []
    for row in reversed(table.rows):
        cell = row.cell(index)
        if not is_blank(cell.value):
            found.append((cell.value, cell.number_format))
            if len(found) == SAMPLE_ROWS:
                break
    return found


def row_cells(
    table: SheetTable,
    mapping: SheetMapping,
    entry: NewEntry,
    home_zone: str | None,
    row_id: str | None,
) -> dict[int, NewCell]:
    columns = column_indexes(table, mapping)
    excel = table.kind is SheetKind.XLSX
    decimal_comma = bool(table.csv_format and table.csv_format.decimal_comma)
    cells: dict[int, NewCell] = {}
    day, clock = local_start(entry, home_zone)
    date_index = columns[SheetField.DATE]
    time_index = columns.get(SheetField.START_TIME)
    cells[date_index] = _date_cell(
        _samples(table, date_index), day, clock if time_index is None else None, excel
    )
    if time_index is not None and clock is not None:
        cells[time_index] = _clock_cell(_samples(table, time_index), clock, excel)
    if (index := columns.get(SheetField.SPORT)) is not None:
        cells[index] = (_sport_word(_samples(table, index), entry.sport), None)
    if (index := columns.get(SheetField.DISTANCE)) is not None and entry.distance_m is not None:
        written = _distance_cell(
            _samples(table, index), entry.distance_m, mapping.distance_unit, excel, decimal_comma
        )
        if written is not None:
            cells[index] = written
    if (index := columns.get(SheetField.DURATION)) is not None and entry.elapsed_s is not None:
        fmt = duration_format_of(_samples(table, index))
        value, number_format = duration_cell(entry.elapsed_s, fmt, mapping.duration_unit, excel)
        if decimal_comma and isinstance(value, str):
            value = value.replace(".", ",")
        cells[index] = (value, number_format)
    name_index = columns.get(SheetField.NAME)
    notes_index = columns.get(SheetField.NOTES)
    if name_index is not None:
        if entry.name:
            cells[name_index] = (entry.name, None)
        if notes_index is not None and entry.description:
            cells[notes_index] = (entry.description, None)
    elif notes_index is not None and entry.name:
        cells[notes_index] = (entry.name, None)
    if (index := columns.get(SheetField.GEAR)) is not None and entry.gear_name:
        cells[index] = (entry.gear_name, None)
    for which, provider in ID_FIELDS.items():
        index = columns.get(which)
        found = _evidence_id(entry.evidence, provider)
        if index is not None and found is not None:
            cells[index] = _id_cell(_samples(table, index), found, excel)
    if (index := columns.get(SheetField.ROW_ID)) is not None and row_id is not None:
        cells[index] = (row_id, None)
    return cells


def _date_cell(
    samples: list[tuple[CellValue, str | None]], day: date, clock: time | None, excel: bool
) -> NewCell:
    sample = samples[0] if samples else None
    if sample is not None and isinstance(sample[0], str):
        try:
            pattern = parse_date(sample[0], None).pattern or "%Y-%m-%d"
        except CellError:
            pattern = "%Y-%m-%d"
        return _text_date(pattern, day, clock), None
    if sample is None and not excel:
        return _text_date("%Y-%m-%d %H:%M" if clock else "%Y-%m-%d", day, clock), None
    shows_time = isinstance(sample[0], datetime) and sample[0].time() != time() if sample else False
    number_format = (sample[1] if sample else None) or "yyyy-mm-dd"
    if clock is not None and not shows_time and sample is not None:
        clock = None  # the column holds dates: the time goes nowhere rather than into a date
    if clock is not None and sample is None:
        number_format = "yyyy-mm-dd hh:mm"
    return datetime.combine(day, clock or time()), number_format


def _text_date(pattern: str, day: date, clock: time | None) -> str:
    date_part = re.split(r"[ T]%[HIM]", pattern, maxsplit=1)[0]
    has_time = date_part != pattern
    moment = datetime.combine(day, clock or time())
    if clock is not None and has_time:
        return moment.strftime(pattern)
    if clock is not None:
        return moment.strftime(f"{date_part} %H:%M")
    return moment.strftime(date_part)


def _clock_cell(samples: list[tuple[CellValue, str | None]], clock: time, excel: bool) -> NewCell:
    sample = samples[0] if samples else None
    if sample is not None and isinstance(sample[0], str):
        text = sample[0].strip()
        seconds = text.count(":") == 2
        if re.search(r"[ap]\.?m\.?$", text, re.IGNORECASE):
            shown = clock.strftime("%I:%M:%S %p" if seconds else "%I:%M %p").lstrip("0")
            return (shown.lower() if text[-1].islower() else shown), None
        return clock.strftime("%H:%M:%S" if seconds else "%H:%M"), None
    if excel:
        number_format = sample[1] if sample and sample[1] not in (None, "General") else "hh:mm"
        return clock, number_format
    return clock.strftime("%H:%M"), None


# The word written for a sport the sheet has no word for yet; each reads back as its sport.
_DEFAULT_WORDS = {Sport.MOUNTAIN_BIKE: "MTB"}


def default_sport_word(sport: Sport) -> str:
    return _DEFAULT_WORDS.get(sport, sport.value.replace("_", " ").capitalize())


def _sport_word(samples: list[tuple[CellValue, str | None]], sport: Sport) -> str:
    words = Counter(
        str(value).strip()
        for value, _ in samples
        if isinstance(value, str) and from_label(value) is sport
    )
    if words:
        return words.most_common(1)[0][0]
    return default_sport_word(sport)


def _distance_cell(
    samples: list[tuple[CellValue, str | None]],
    metres: float,
    unit: DistanceUnit | None,
    excel: bool,
    decimal_comma: bool,
) -> NewCell | None:
    text_samples = [v for v, _ in samples if isinstance(v, str)]
    written_unit = bool(text_samples) and all(has_written_unit(v) for v in text_samples)
    if unit is None:
        if not written_unit:
            return None
        unit = DistanceUnit.KM
    number = distance_value(metres, unit)
    sample = samples[0] if samples else None
    if excel and (sample is None or isinstance(sample[0], int | float)):
        number_format = sample[1] if sample and sample[1] not in (None, "General") else None
        return number, number_format
    shown = f"{number:.2f}"
    if decimal_comma:
        shown = shown.replace(".", ",")
    return (f"{shown} {unit.value}" if written_unit else shown), None


def _evidence_id(evidence: frozenset[str], provider: ProviderName) -> str | None:
    prefix = f"{provider.value}:"
    return next((key[len(prefix) :] for key in sorted(evidence) if key.startswith(prefix)), None)


_URL_ID = re.compile(r"(/(?:activities|activity|trips|rides)/)([A-Za-z0-9_-]+)")


def _id_cell(samples: list[tuple[CellValue, str | None]], found: str, excel: bool) -> NewCell:
    sample = samples[0][0] if samples else None
    if isinstance(sample, str) and _URL_ID.search(sample):
        return _URL_ID.sub(lambda m: m[1] + found, sample, count=1), None
    if excel and isinstance(sample, int | float) and found.isdigit():
        return int(found), None
    return found, None
