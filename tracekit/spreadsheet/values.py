"""Cell values → SI numbers, dates and times; and SI values → cells in the sheet's own style.

A cell comes as openpyxl gives it (str, int, float, datetime, date, time, timedelta, with the
cell's number format) or as CSV text. Anything that cannot be read raises `CellError` with a
message the user can act on; nothing is guessed (a bare number in a duration column needs the
sheet's duration unit; 03/04/2024 needs the sheet's date order).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

from tracekit.spreadsheet.mapping import DateOrder, DistanceUnit, DurationUnit
from tracekit.units import METRES_PER_MILE

EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 in the 1900 date system, as openpyxl counts
_DAY_S = 86_400

type CellValue = str | int | float | bool | datetime | date | time | timedelta | None


class CellError(ValueError):
    """A cell that cannot be read as its column says; the message names what is wrong."""


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_time_format(number_format: str | None) -> bool:
    """Whether an Excel number format shows hours/minutes/seconds (so the number is days)."""
    if not number_format or number_format == "General":
        return False
    plain = re.sub(r'"[^"]*"|\\.|\[(?![hms]+\])[^\]]*\]', "", number_format.lower())
    return bool(re.search(r"[hs]|\[m+\]|m+:|:m+", plain))


def _number(text: str, decimal_comma: bool) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        raise CellError(f"{text!r}: is the comma a decimal or a thousands separator?")
    try:
        return float(cleaned)
    except ValueError:
        raise CellError(f"{text!r} is not a number") from None


# ---------------------------------------------------------------------------------- durations

_HMS = re.compile(r"^(\d+):([0-5]?\d):([0-5]?\d(?:[.,]\d+)?)$")
_MS = re.compile(r"^(\d+):([0-5]?\d(?:[.,]\d+)?)$")
_WORDS = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?))?\s*"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minutes?|'))?\s*"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:s|sec|secs|seconds?|\"|''))?$",
    re.IGNORECASE,
)
_UNIT_FACTOR = {DurationUnit.SECONDS: 1.0, DurationUnit.MINUTES: 60.0, DurationUnit.HOURS: 3600.0}


def parse_duration(
    value: CellValue,
    unit: DurationUnit | None,
    number_format: str | None = None,
    decimal_comma: bool = False,
) -> float | None:
    """Seconds. "1:02:03" = 1 h 2 min 3 s; a two-part "62:03" = 62 min 3 s (minutes:seconds,
    as running logs and Excel's mm:ss write it); "1h 2m", "45 min"; Excel time cells as shown;
    bare numbers in the sheet's duration unit."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a duration")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if isinstance(value, datetime):  # an Excel time of a day or more, shown as h:mm:ss
        return (value - EXCEL_EPOCH).total_seconds()
    if isinstance(value, date):
        raise CellError(f"{value.isoformat()} is a date, not a duration")
    if isinstance(value, int | float):
        if is_time_format(number_format):
            return float(value) * _DAY_S
        return _scaled(float(value), unit, str(value))
    if not isinstance(value, str):
        raise CellError(f"{value!r} is not a duration")
    text = value.strip()
    if match := _HMS.match(text):
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
    if match := _MS.match(text):
        minutes, seconds = match.groups()
        return int(minutes) * 60 + float(seconds.replace(",", "."))
    if re.fullmatch(r"[\d.,\s]+", text):
        return _scaled(_number(text, decimal_comma), unit, text)
    match = _WORDS.match(text)
    if match and any(match.groups()):
        hours, minutes, seconds = (float(g.replace(",", ".")) if g else 0.0 for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise CellError(f"{text!r} is not a duration (write it like 1:02:03)")


def _scaled(number: float, unit: DurationUnit | None, shown: str) -> float:
    if unit is None:
        raise CellError(
            f"{shown} is a bare number: say whether this sheet's durations are seconds, "
            "minutes or hours"
        )
    if number < 0:
        raise CellError(f"{shown} is a negative duration")
    return number * _UNIT_FACTOR[unit]


class DurationStyle(StrEnum):
    HMS = "h:mm:ss"  # text 1:02:03
    HHMMSS = "hh:mm:ss"  # text 01:02:03
    MS = "mm:ss"  # text 62:03
    EXCEL = "excel"  # an Excel time cell (keeps its number format)
    NUMBER = "number"  # a bare number in the sheet's duration unit


@dataclass(frozen=True, slots=True)
class DurationFormat:
    style: DurationStyle
    number_format: str | None = None
    decimals: int = 0


def duration_format_of(samples: Iterable[tuple[CellValue, str | None]]) -> DurationFormat | None:
    """How a column writes durations, from its most recent filled cells (None: no sample)."""
    for value, number_format in samples:
        if is_blank(value) or isinstance(value, bool):
            continue
        if isinstance(value, time | timedelta | datetime) or (
            isinstance(value, int | float) and is_time_format(number_format)
        ):
            return DurationFormat(DurationStyle.EXCEL, number_format or "[h]:mm:ss")
        if isinstance(value, int | float):
            return DurationFormat(DurationStyle.NUMBER, number_format, _decimals(value))
        if isinstance(value, str):
            text = value.strip()
            if _HMS.match(text):
                padded = len(text.split(":")[0]) == 2
                return DurationFormat(DurationStyle.HHMMSS if padded else DurationStyle.HMS)
            if _MS.match(text):
                return DurationFormat(DurationStyle.MS)
            if re.fullmatch(r"[\d.,]+", text):
                return DurationFormat(DurationStyle.NUMBER, None, _text_decimals(text))
    return None


def _decimals(value: int | float) -> int:
    if isinstance(value, int) or float(value).is_integer():
        return 0
    return min(len(repr(float(value)).split(".")[1]), 2)


def _text_decimals(text: str) -> int:
    for sep in (".", ","):
        if sep in text:
            return min(len(text.rsplit(sep, 1)[1]), 2)
    return 0


def duration_cell(
    seconds: float, fmt: DurationFormat | None, unit: DurationUnit | None, excel: bool
) -> tuple[CellValue, str | None]:
    """(value, number format) writing `seconds` the way the column already does."""
    if fmt is None:
        fmt = DurationFormat(DurationStyle.EXCEL if excel else DurationStyle.HMS, "[h]:mm:ss")
    total = round(seconds)
    if fmt.style is DurationStyle.EXCEL:
        if excel:
            return total / _DAY_S, fmt.number_format or "[h]:mm:ss"
        fmt = DurationFormat(DurationStyle.HMS)
    if fmt.style is DurationStyle.NUMBER and unit is not None:
        number = seconds / _UNIT_FACTOR[unit]
        if fmt.decimals == 0:
            return (round(number), fmt.number_format) if excel else (str(round(number)), None)
        rounded = round(number, fmt.decimals)
        return (rounded, fmt.number_format) if excel else (f"{rounded:.{fmt.decimals}f}", None)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if fmt.style is DurationStyle.MS:
        return f"{hours * 60 + minutes}:{secs:02d}", None
    if fmt.style is DurationStyle.HHMMSS:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}", None
    return f"{hours}:{minutes:02d}:{secs:02d}", None


# ---------------------------------------------------------------------------------- distances

_DISTANCE_TEXT = re.compile(
    r"^([\d.,\s\u00a0]+?)\s*(km|kms|kilometers?|kilometres?|mi|miles?|m|meters?|metres?)?\.?$",
    re.IGNORECASE,
)
_METRES = {DistanceUnit.KM: 1000.0, DistanceUnit.MI: METRES_PER_MILE, DistanceUnit.M: 1.0}


def _unit_word(word: str) -> DistanceUnit:
    word = word.lower()
    if word.startswith("k"):
        return DistanceUnit.KM
    if word.startswith("mi"):
        return DistanceUnit.MI
    return DistanceUnit.M


def parse_distance(
    value: CellValue, unit: DistanceUnit | None, decimal_comma: bool = False
) -> float | None:
    """Metres. A unit written in the cell ("10.5 km") wins; else the sheet's unit."""
    if is_blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CellError(f"{value!r} is not a distance")
    if isinstance(value, str):
        match = _DISTANCE_TEXT.match(value.strip())
        if not match:
            raise CellError(f"{value.strip()!r} is not a distance")
        number = _number(match.group(1), decimal_comma)
        if match.group(2):
            unit = _unit_word(match.group(2))
    else:
        number = float(value)
    if unit is None:
        raise CellError("distances need a unit: choose km or mi for this sheet")
    if number < 0:
        raise CellError(f"{value!r} is a negative distance")
    return number * _METRES[unit]


def has_written_unit(value: CellValue) -> bool:
    if not isinstance(value, str):
        return False
    match = _DISTANCE_TEXT.match(value.strip())
    return bool(match and match.group(2))


def distance_value(metres: float, unit: DistanceUnit) -> float:
    return round(metres / _METRES[unit], 3 if unit is DistanceUnit.M else 2)


# ------------------------------------------------------------------------------ dates, times


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A date cell: the local date, a time of day when the cell has one, and an explicit UTC
    offset when the text states one ("…Z", "+02:00") — which then beats the home zone."""

    day: date
    clock: time | None = None
    offset: timedelta | None = None
    pattern: str | None = None  # the strftime pattern the text matched, for writing alike


_SLASHED = re.compile(
    r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(.+))?$",
)
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T,]+(.+))?$")
_CLOCK = re.compile(
    r"^(\d{1,2})[:.h](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?\s*([ap])?\.?\s*(m\.?)?$", re.IGNORECASE
)
_NAMED_MONTH_PATTERNS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%a %d %b %Y",
    "%a, %d %b %Y",
    "%A, %B %d, %Y",
    "%a, %b %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)


def parse_clock(value: CellValue) -> time | None:
    """A time of day: an Excel time, a day fraction, or text like 06:30, 6:30 pm, 18.05."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, timedelta) and value < timedelta(days=1):
        return (datetime.min + value).time()
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        return (datetime.min + timedelta(seconds=round(value * _DAY_S))).time()
    if isinstance(value, str) and (match := _CLOCK.match(value.strip())):
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if match[4]:
            if not 1 <= hour <= 12:
                raise CellError(f"{value.strip()!r} is not a time of day")
            hour = hour % 12 + (12 if match[4].lower() == "p" else 0)
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise CellError(f"{value!r} is not a time of day")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def parse_date(value: CellValue, order: DateOrder | None) -> ParsedDate:
    """A date cell, with its time and explicit offset when it has them.

    A datetime at exactly 00:00:00 is a date (spreadsheets store typed dates that way).
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return ParsedDate(value.date(), value.timetz().replace(tzinfo=None), value.utcoffset())
        clock = value.time()
        return ParsedDate(value.date(), None if clock == time() else clock)
    if isinstance(value, date):
        return ParsedDate(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value < 80_000:  # an Excel serial in a cell without a date format
            moment = EXCEL_EPOCH + timedelta(days=float(value))
            return parse_date(moment.replace(microsecond=0), order)
        raise CellError(f"{value!r} is not a date")
    if not isinstance(value, str) or not value.strip():
        raise CellError("no date")
    text = " ".join(value.strip().split())
    iso = _iso(text)
    if iso is not None:
        return iso
    if match := _YMD_SLASH.match(text):
        day = _checked_date(text, int(match[1]), int(match[2]), int(match[3]))
        return _with_clock(day, match[4], "%Y/%m/%d", text)
    if match := _SLASHED.match(text):
        first, sep, second, year, rest = match.groups()
        which: DateOrder | None = DateOrder.DMY  # 03.04.2024 is day-first wherever dots are used
        if sep != ".":
            which = order or _forced_order(int(first), int(second))
            if which is None:
                raise CellError(
                    f"{text!r}: is that day/month or month/day? Choose the sheet's date order"
                )
        day_n, month_n = (first, second) if which is DateOrder.DMY else (second, first)
        pattern = (f"%d{sep}%m{sep}" if which is DateOrder.DMY else f"%m{sep}%d{sep}") + (
            "%Y" if len(year) == 4 else "%y"
        )
        day = _checked_date(text, _year(year), int(month_n), int(day_n))
        return _with_clock(day, rest, pattern, text)
    head, rest = _split_time(text)
    for pattern in _NAMED_MONTH_PATTERNS:
        try:
            day = datetime.strptime(head, pattern).date()
        except ValueError:
            continue
        return _with_clock(day, rest, pattern, text)
    raise CellError(f"{text!r} is not a date")


def _split_time(text: str) -> tuple[str, str]:
    """Split "Jan 5, 2024, 6:30:12 AM" or "5 Jan 2024 06:30" into date and time parts."""
    match = re.match(r"^(.*?\d{4})(?:[ ,T]+)(\d{1,2}[:.h]\d{2}.*)$", text)
    if match:
        return match[1].rstrip(", "), match[2]
    return text, ""


def _iso(text: str) -> ParsedDate | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(f"{text!r} is not a valid date") from None
    if len(text) == 10:
        return ParsedDate(moment.date(), pattern="%Y-%m-%d")
    offset = moment.utcoffset()
    return ParsedDate(
        moment.date(),
        moment.time(),
        offset,
        "%Y-%m-%dT%H:%M:%S" if "T" in text else "%Y-%m-%d %H:%M",
    )


def _checked_date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"{text!r} is not a valid date") from None


def _with_clock(day: date, rest: str | None, pattern: str, text: str) -> ParsedDate:
    if not rest or not rest.strip():
        return ParsedDate(day, pattern=pattern)
    rest = rest.strip()
    offset: timedelta | None = None
    if match := re.match(r"^(.*?)\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})$", rest, re.IGNORECASE):
        rest, zone = match[1], match[2].upper()
        if zone in ("Z", "UTC", "GMT"):
            offset = timedelta(0)
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        clock = parse_clock(rest)
    except CellError:
        raise CellError(f"{text!r} is not a date and time") from None
    return ParsedDate(day, clock, offset, pattern)


def _forced_order(first: int, second: int) -> DateOrder | None:
    if first > 12 >= second:
        return DateOrder.DMY
    if second > 12 >= first:
        return DateOrder.MDY
    return None


def detect_date_order(values: Iterable[CellValue]) -> tuple[DateOrder | None, bool]:
    """(the order the slashed dates prove, whether any date needs one)."""
    seen: set[DateOrder] = set()
    needs = False
    for value in values:
        if not isinstance(value, str):
            continue
        match = _SLASHED.match(" ".join(value.strip().split()))
        if not match or match[2] == ".":
            continue
        needs = True
        forced = _forced_order(int(match[1]), int(match[3]))
        if forced is not None:
            seen.add(forced)
    return (seen.pop() if len(seen) == 1 else None), needs


def as_offset_zone(offset: timedelta) -> timezone:
    return timezone(offset)
