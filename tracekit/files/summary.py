"""What Tracekit keeps from an activity file: a summary, never the full stream of samples."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tracekit.sports import Sport


class FileFormat(StrEnum):
    FIT = "fit"
    GPX = "gpx"
    TCX = "tcx"


class ActivityFileError(Exception):
    """A file that cannot be imported; the message says what is wrong, in words a user follows."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One session of a multisport file (swim, transition, ride, run…)."""

    sport: Sport
    raw_type: str
    start_utc: datetime
    elapsed_s: float | None
    distance_m: float | None


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    """One activity as a file describes it. SI units; `start_utc` is timezone-aware UTC.

    `start_local` is the naive wall clock at the start when the file (or its GPS position)
    tells it; `timezone` is an IANA name when the start position is known.
    """

    format: FileFormat
    start_utc: datetime
    sport: Sport
    raw_type: str
    elapsed_s: float | None = None
    moving_s: float | None = None
    distance_m: float | None = None
    start_local: datetime | None = None
    timezone: str | None = None
    name: str | None = None
    device: str | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    ascent_m: float | None = None
    calories: float | None = None
    start_lat: float | None = None
    start_lon: float | None = None
    track: tuple[tuple[float, float], ...] = ()
    legs: tuple[Leg, ...] = field(default_factory=tuple)
