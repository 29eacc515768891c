"""Rows of a training log → provider activities, each with an identity that outlives sorting.

Identity (the record's provider id):
- `id:<value>` when the row has a Tracekit ID (a column added only with the user's approval);
- otherwise a content key `row:<date>[T<hh:mm>]/<sport>/<n>`: the row's local date, its start
  time when it has one, its sport, and its position among the rows sharing those (1 for the
  first in file order). Sorting the sheet or inserting rows elsewhere keeps every key; editing
  a row's name, notes, gear, distance or duration keeps it too, so the edit re-imports as an
  update. Changing a row's date or sport, or reordering two same-day same-sport rows, changes
  the key: the Tracekit ID column exists for users who do that.

Time (the original re-stamped everything at home-zone midnight: F9, F23):
- a date without a time is date-only: `date_only`, `start_local` = the date at 00:00, no
  instant, whatever the home zone is;
- a time written with an offset ("…Z", "+02:00") is that instant;
- a time without an offset is a wall clock in the home zone; with no home zone, Tracekit keeps
  the wall clock and stores no instant.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracekit.providers.base import RemoteActivity
from tracekit.sports import Sport, from_label
from tracekit.spreadsheet.mapping import ID_FIELDS, SheetField, SheetMapping
from tracekit.spreadsheet.table import SheetRow, SheetTable
from tracekit.spreadsheet.values import (
    CellError,
    CellValue,
    is_blank,
    parse_clock,
    parse_date,
    parse_distance,
    parse_duration,
)

ID_PREFIX = "id:"
ROW_PREFIX = "row:"


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    key: str
    activity: RemoteActivity


@dataclass
class ParsedSheet:
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def find(self, key: str) -> ParsedRow | None:
        return next((r for r in self.rows if r.key == key), None)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def text_of(value: CellValue) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return " ".join(str(value).split()) if "\n" not in str(value) else str(value).strip()


_URL_ID = re.compile(r"/(?:activities|activity|trips|rides)/([A-Za-z0-9_-]+)")
_PLAIN_ID = re.compile(r"^[A-Za-z]?\d+$")


def provider_id_from(value: CellValue) -> str | None:
    """An activity id from a cell: 1234, "1234", "i1234", or a link ending in /activities/1234."""
    if is_blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and value > 0 else None
    text = str(value).strip()
    if match := _URL_ID.search(text):
        return match[1]
    return text if _PLAIN_ID.match(text) else None


@dataclass(frozen=True, slots=True)
class _Columns:
    index: dict[SheetField, int]

    def cell(self, row: SheetRow, which: SheetField) -> CellValue:
        return row.cell(self.index.get(which)).value

    def number_format(self, row: SheetRow, which: SheetField) -> str | None:
        return row.cell(self.index.get(which)).number_format


def column_indexes(table: SheetTable, mapping: SheetMapping) -> dict[SheetField, int]:
    found = {}
    for which, header in mapping.columns.items():
        index = table.column(header)
        if index is not None:
            found[which] = index
    return found


def parse_sheet(table: SheetTable, mapping: SheetMapping, home_zone: str | None) -> ParsedSheet:
    columns = _Columns(column_indexes(table, mapping))
    if SheetField.DATE not in columns.index:
        raise _missing_date(table, mapping)
    zone = zone_or_none(home_zone)
    decimal_comma = bool(table.csv_format and table.csv_format.decimal_comma)
    result = ParsedSheet()
    ordinals: Counter[str] = Counter()
    seen_ids: dict[str, int] = {}
    for row in table.rows:
        try:
            when = _when(row, columns, mapping, zone)
        except CellError as exc:
            result.problems.append(RowProblem(row.number, f"skipped: {exc}"))
            continue
        start_utc, start_local, zone_name, date_only = when
        label = text_of(columns.cell(row, SheetField.SPORT))
        sport = from_label(label)
        base = _content_base(start_local, date_only, sport)
        ordinals[base] += 1
        key = f"{ROW_PREFIX}{base}/{ordinals[base]}"
        own_id = text_of(columns.cell(row, SheetField.ROW_ID))
        if own_id:
            if own_id in seen_ids:
                result.problems.append(
                    RowProblem(
                        row.number,
                        f"has the same Tracekit ID as row {seen_ids[own_id]}; "
                        "clear the copy's ID so each session keeps its own",
                    )
                )
            else:
                seen_ids[own_id] = row.number
                key = ID_PREFIX + own_id
        distance = duration = None
        try:
            distance = parse_distance(
                columns.cell(row, SheetField.DISTANCE), mapping.distance_unit, decimal_comma
            )
        except CellError as exc:
            result.problems.append(RowProblem(row.number, f"distance not read: {exc}"))
        try:
            duration = parse_duration(
                columns.cell(row, SheetField.DURATION),
                mapping.duration_unit,
                columns.number_format(row, SheetField.DURATION),
                decimal_comma,
            )
        except CellError as exc:
            result.problems.append(RowProblem(row.number, f"duration not read: {exc}"))
        name, description = _texts(row, columns)
        evidence = _evidence(result, row, columns)
        values = {
            table.headers[i]: text_of(c.value)
            for i, c in enumerate(row.cells)
            if i < len(table.headers) and table.headers[i] and not is_blank(c.value)
        }
        activity = RemoteActivity(
            provider_id=key,
            start_utc=start_utc,
            sport=sport,
            raw_type=label[:64] if label else None,
            start_local=start_local,
            timezone=zone_name,
            date_only=date_only,
            elapsed_s=duration,
            distance_m=distance,
            name=name[:255] if name else None,
            description=description,
            gear_id=(text_of(columns.cell(row, SheetField.GEAR)) or "")[:128] or None,
            evidence=evidence,
            payload={"row": row.number, "sheet": table.sheet, "values": values},
        )
        result.rows.append(ParsedRow(row.number, key, activity))
    return result


def _missing_date(table: SheetTable, mapping: SheetMapping) -> CellError:
    header = mapping.header(SheetField.DATE)
    if header is None:
        return CellError("the mapping has no date column")
    return CellError(
        f"the date column {header!r} is no longer in {table.path.name} "
        f"(its headers: {', '.join(h for h in table.headers if h)}); connect the sheet again"
    )


def _when(
    row: SheetRow, columns: _Columns, mapping: SheetMapping, zone: ZoneInfo | None
) -> tuple[datetime | None, datetime, str | None, bool]:
    """(start_utc, start_local, zone name, date_only) for one row."""
    raw = columns.cell(row, SheetField.DATE)
    if is_blank(raw):
        raise CellError("no date")
    parsed = parse_date(raw, mapping.date_order)
    clock = parsed.clock
    if SheetField.START_TIME in columns.index:
        written = columns.cell(row, SheetField.START_TIME)
        if not is_blank(written):
            clock = parse_clock(written)
    zone_name = zone.key if zone is not None else None
    if clock is None:
        return None, datetime.combine(parsed.day, time()), zone_name, True
    local = datetime.combine(parsed.day, clock)
    if parsed.offset is not None:
        instant = (local - parsed.offset).replace(tzinfo=UTC)
        agrees = zone is not None and instant.astimezone(zone).utcoffset() == parsed.offset
        return instant, local, zone_name if agrees else None, False
    if zone is None:
        return None, local, None, False
    return local.replace(tzinfo=zone).astimezone(UTC), local, zone_name, False


def _content_base(start_local: datetime, date_only: bool, sport: Sport) -> str:
    stamp = f"{start_local:%Y-%m-%d}" if date_only else f"{start_local:%Y-%m-%dT%H:%M}"
    return f"{stamp}/{sport.value}"


def content_key(start_local: datetime, date_only: bool, sport: Sport, ordinal: int) -> str:
    return f"{ROW_PREFIX}{_content_base(start_local, date_only, sport)}/{ordinal}"


def _texts(row: SheetRow, columns: _Columns) -> tuple[str | None, str | None]:
    """(name, description): the name column, else the notes column as the name."""
    notes = text_of(columns.cell(row, SheetField.NOTES))
    if SheetField.NAME in columns.index:
        return text_of(columns.cell(row, SheetField.NAME)), notes
    return notes, None


def _evidence(result: ParsedSheet, row: SheetRow, columns: _Columns) -> frozenset[str]:
    keys = set()
    for which, provider in ID_FIELDS.items():
        raw = columns.cell(row, which)
        if is_blank(raw):
            continue
        found = provider_id_from(raw)
        if found is None:
            result.problems.append(
                RowProblem(row.number, f"{which.label} {text_of(raw)!r} is not an activity id")
            )
        else:
            keys.add(f"{provider.value}:{found}")
    return frozenset(keys)


def local_window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A naive window wide enough to hold every wall clock of the UTC window, in any zone."""
    slack = timedelta(hours=14)
    low = (since.astimezone(UTC).replace(tzinfo=None) - slack) if since else datetime.min
    high = (until.astimezone(UTC).replace(tzinfo=None) + slack) if until else datetime.max
    return low, high
