"""Display conversions. Everything inside Tracekit is SI; only presentation converts."""

from enum import StrEnum

METRES_PER_MILE = 1609.344
METRES_PER_FOOT = 0.3048


class UnitSystem(StrEnum):
    METRIC = "metric"
    IMPERIAL = "imperial"


def format_distance(metres: float | None, units: UnitSystem = UnitSystem.METRIC) -> str:
    if metres is None:
        return "—"
    if units is UnitSystem.IMPERIAL:
        return f"{metres / METRES_PER_MILE:.2f} mi"
    return f"{metres / 1000:.2f} km"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
