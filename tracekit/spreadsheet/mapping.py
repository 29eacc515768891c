"""Which column of a training log holds what: detected from the headers, edited by the user.

A mapping names columns by their header text, not their position, so a column the user moves
is still found. Units are part of the mapping and are never guessed: a header that states a
unit ("Distance (mi)", "km", "Time (min)") sets it; otherwise the user chooses (the CLI asks),
because a km log read as miles is off by 61 % and never matches anything (the original's F13).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tracekit.providers.names import ProviderName


class SheetField(StrEnum):
    ROW_ID = "row_id"  # Tracekit's own id column, added only with the user's approval
    DATE = "date"
    START_TIME = "start_time"
    SPORT = "sport"
    DISTANCE = "distance"
    DURATION = "duration"
    NAME = "name"
    NOTES = "notes"
    GEAR = "gear"
    STRAVA_ID = "strava_id"
    GARMIN_ID = "garmin_id"
    RIDEWITHGPS_ID = "ridewithgps_id"
    INTERVALSICU_ID = "intervalsicu_id"

    @property
    def label(self) -> str:
        return _FIELD_LABELS[self]


_FIELD_LABELS = {
    SheetField.ROW_ID: "Tracekit row id",
    SheetField.DATE: "date",
    SheetField.START_TIME: "start time",
    SheetField.SPORT: "sport",
    SheetField.DISTANCE: "distance",
    SheetField.DURATION: "duration",
    SheetField.NAME: "name",
    SheetField.NOTES: "notes",
    SheetField.GEAR: "gear",
    SheetField.STRAVA_ID: "Strava id",
    SheetField.GARMIN_ID: "Garmin id",
    SheetField.RIDEWITHGPS_ID: "RideWithGPS id",
    SheetField.INTERVALSICU_ID: "intervals.icu id",
}

# Columns whose values are another provider's activity ids: hard evidence for the matcher.
ID_FIELDS: dict[SheetField, ProviderName] = {
    SheetField.STRAVA_ID: ProviderName.STRAVA,
    SheetField.GARMIN_ID: ProviderName.GARMIN,
    SheetField.RIDEWITHGPS_ID: ProviderName.RIDEWITHGPS,
    SheetField.INTERVALSICU_ID: ProviderName.INTERVALSICU,
}

ROW_ID_HEADER = "Tracekit ID"


class DistanceUnit(StrEnum):
    KM = "km"
    MI = "mi"
    M = "m"


class DurationUnit(StrEnum):
    """How bare numbers in the duration column count. Clock text ("1:02:03") and Excel time
    cells are read as what they show whatever this says."""

    SECONDS = "s"
    MINUTES = "min"
    HOURS = "h"


class DateOrder(StrEnum):
    """How to read a date such as 03/04/2024, which is 3 April or 4 March depending on it."""

    DMY = "dmy"
    MDY = "mdy"


@dataclass(frozen=True, slots=True)
class SheetMapping:
    """Field → header text, plus the units the sheet's numbers are in."""

    columns: Mapping[SheetField, str] = field(default_factory=dict)
    distance_unit: DistanceUnit | None = None
    duration_unit: DurationUnit | None = None
    date_order: DateOrder | None = None

    def header(self, which: SheetField) -> str | None:
        return self.columns.get(which)

    def with_column(self, which: SheetField, header: str | None) -> "SheetMapping":
        columns = {f: h for f, h in self.columns.items() if f is not which and h != header}
        if header is not None:
            columns[which] = header
        return replace(self, columns=columns)

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": {f.value: h for f, h in self.columns.items()},
            "distance_unit": self.distance_unit.value if self.distance_unit else None,
            "duration_unit": self.duration_unit.value if self.duration_unit else None,
            "date_order": self.date_order.value if self.date_order else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SheetMapping":
        return cls(
            columns={SheetField(f): str(h) for f, h in dict(data.get("columns") or {}).items()},
            distance_unit=_enum_or_none(DistanceUnit, data.get("distance_unit")),
            duration_unit=_enum_or_none(DurationUnit, data.get("duration_unit")),
            date_order=_enum_or_none(DateOrder, data.get("date_order")),
        )


def _enum_or_none[E: StrEnum](enum: type[E], value: Any) -> E | None:
    return enum(value) if value else None


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What one header says: the field it names (if any) and a unit it states (if any)."""

    field: SheetField | None
    distance_unit: DistanceUnit | None = None
    duration_unit: DurationUnit | None = None
    bare_time: bool = False  # just "Time": a duration, unless another column is the duration


_DISTANCE_UNITS = {
    "km": DistanceUnit.KM,
    "kms": DistanceUnit.KM,
    "kilometer": DistanceUnit.KM,
    "kilometers": DistanceUnit.KM,
    "kilometre": DistanceUnit.KM,
    "kilometres": DistanceUnit.KM,
    "mi": DistanceUnit.MI,
    "mile": DistanceUnit.MI,
    "miles": DistanceUnit.MI,
    "mileage": DistanceUnit.MI,
    "m": DistanceUnit.M,
    "meter": DistanceUnit.M,
    "meters": DistanceUnit.M,
    "metre": DistanceUnit.M,
    "metres": DistanceUnit.M,
}
_DURATION_UNITS = {
    "s": DurationUnit.SECONDS,
    "sec": DurationUnit.SECONDS,
    "secs": DurationUnit.SECONDS,
    "second": DurationUnit.SECONDS,
    "seconds": DurationUnit.SECONDS,
    "min": DurationUnit.MINUTES,
    "mins": DurationUnit.MINUTES,
    "minute": DurationUnit.MINUTES,
    "minutes": DurationUnit.MINUTES,
    "h": DurationUnit.HOURS,
    "hr": DurationUnit.HOURS,
    "hrs": DurationUnit.HOURS,
    "hour": DurationUnit.HOURS,
    "hours": DurationUnit.HOURS,
}
# Headers that are a clock layout, not a unit: "Time (hh:mm:ss)".
_CLOCK_WORDS = {"hh mm ss", "h mm ss", "hh mm", "mm ss", "hms"}

_NAMES: dict[SheetField, frozenset[str]] = {
    SheetField.ROW_ID: frozenset({"tracekit id", "tracekit row id", "tracekit"}),
    SheetField.STRAVA_ID: frozenset(
        {"strava", "strava id", "strava activity id", "strava activity", "strava link"}
        | {"strava url"}
    ),
    SheetField.GARMIN_ID: frozenset(
        {"garmin", "garmin id", "garmin activity id", "garmin connect", "garmin connect id"}
        | {"garmin link", "garmin url"}
    ),
    SheetField.RIDEWITHGPS_ID: frozenset(
        {"ridewithgps", "ridewithgps id", "rwgps", "rwgps id", "ride with gps", "ride with gps id"}
        | {"ridewithgps link", "rwgps link", "ridewithgps trip id"}
    ),
    SheetField.INTERVALSICU_ID: frozenset(
        {"intervals", "intervals icu", "intervals icu id", "intervals id", "icu id"}
    ),
    SheetField.DATE: frozenset(
        {"date", "day", "activity date", "workout date", "start date", "date time", "datetime"}
        | {"start", "started", "when", "start date time", "date and time", "session date"}
    ),
    SheetField.START_TIME: frozenset(
        {"start time", "time of day", "starting time", "start at", "started at", "clock time"}
    ),
    SheetField.SPORT: frozenset(
        {"sport", "type", "activity", "activity type", "discipline", "workout type"}
        | {"sport type", "kind", "mode"}
    ),
    SheetField.DISTANCE: frozenset({"distance", "dist", "total distance", "length"}),
    SheetField.DURATION: frozenset(
        {"duration", "elapsed", "elapsed time", "total time", "moving time", "time taken"}
        | {"ride time", "run time", "workout time", "training time"}
    ),
    SheetField.NAME: frozenset(
        {"name", "title", "activity name", "workout name", "workout", "session", "route"}
    ),
    SheetField.NOTES: frozenset(
        {"notes", "note", "comments", "comment", "description", "remarks", "details", "log"}
    ),
    SheetField.GEAR: frozenset(
        {"gear", "bike", "bicycle", "shoes", "shoe", "equipment", "kit", "bike shoes"}
    ),
}
_LOOKUP = {name: which for which, names in _NAMES.items() for name in names}


def normalise(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.casefold()).split())


def read_header(header: str) -> HeaderInfo:
    """The field and unit one header names ("Distance (mi)" → distance in miles)."""
    text = normalise(header)
    if not text:
        return HeaderInfo(None)
    if text in _LOOKUP:
        return HeaderInfo(_LOOKUP[text])
    for clock in _CLOCK_WORDS:
        if text.endswith(" " + clock) or text == clock:
            base = text.removesuffix(clock).strip()
            if (
                not base
                or base in ("time", "duration")
                or _LOOKUP.get(base) is (SheetField.DURATION)
            ):
                return HeaderInfo(SheetField.DURATION)
    words = text.split()
    distance = [_DISTANCE_UNITS[w] for w in words if w in _DISTANCE_UNITS]
    duration = [_DURATION_UNITS[w] for w in words if w in _DURATION_UNITS]
    rest = " ".join(w for w in words if w not in _DISTANCE_UNITS and w not in _DURATION_UNITS)
    if text == "time" or rest == "time":
        unit = duration[0] if len(duration) == 1 and not distance else None
        return HeaderInfo(SheetField.DURATION, duration_unit=unit, bare_time=unit is None)
    found = _LOOKUP.get(rest) if rest else None
    # A unit alone ("km", "Minutes") or a unit on the field's own name; "Elevation (m)" is not
    # a distance.
    if len(distance) == 1 and not duration and (not rest or found is SheetField.DISTANCE):
        return HeaderInfo(SheetField.DISTANCE, distance_unit=distance[0])
    if len(duration) == 1 and not distance and (not rest or found is SheetField.DURATION):
        return HeaderInfo(SheetField.DURATION, duration_unit=duration[0])
    if found is not None and not distance and not duration:
        return HeaderInfo(found)
    return HeaderInfo(None)


def detect_mapping(headers: Sequence[str]) -> SheetMapping:
    """The best mapping the headers alone support; units only where a header states them.

    Each field takes the first header that names it. A bare "Time" is the duration, unless
    another column is clearly the duration, in which case it is the start time.
    """
    infos = [(header, read_header(header)) for header in headers if header.strip()]
    columns: dict[SheetField, str] = {}
    distance_unit: DistanceUnit | None = None
    duration_unit: DurationUnit | None = None
    for header, info in infos:
        if info.field is None or info.bare_time or info.field in columns:
            continue
        columns[info.field] = header
        if info.field is SheetField.DISTANCE:
            distance_unit = info.distance_unit
        elif info.field is SheetField.DURATION:
            duration_unit = info.duration_unit
    for header, info in infos:
        if not info.bare_time:
            continue
        if SheetField.DURATION not in columns:
            columns[SheetField.DURATION] = header
        elif SheetField.START_TIME not in columns:
            columns[SheetField.START_TIME] = header
    return SheetMapping(columns, distance_unit, duration_unit)


def stated_units(header: str) -> tuple[DistanceUnit | None, DurationUnit | None]:
    """The units a header states, for checking a user's choice against the sheet."""
    info = read_header(header)
    return info.distance_unit, info.duration_unit
