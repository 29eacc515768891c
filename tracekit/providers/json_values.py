"""Reading values out of a provider's JSON answer: one set of rules for every provider.

A provider's JSON is untrusted: a field may be missing, null, the wrong type or malformed, and
every reader here answers None rather than raising, so one odd activity never fails a sync.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracekit.timezones import as_utc


def number(value: Any) -> float | None:
    """A JSON number as a float (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def text(value: Any) -> str | None:
    """A non-empty string."""
    return value if isinstance(value, str) and value else None


def instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC instant (a naive one is taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def wall_clock(value: Any) -> datetime | None:
    """An ISO 8601 local time as a naive wall clock, even when a stray "Z" is attached."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=None)
    except ValueError:
        return None


def iana_zone(value: Any) -> str | None:
    """An IANA zone name this machine knows, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value.strip()
