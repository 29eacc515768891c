"""Time zones come from the data: a GPS position or a provider's zone, never from this computer."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzfpy


def zone_at(lat: float, lon: float) -> str | None:
    """The IANA zone at a position, from an offline lookup (None at sea or for bad input)."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    name: str = tzfpy.get_tz(lon, lat)
    if not name or name.startswith("Etc/"):
        return None
    return name


def local_wall_clock(start_utc: datetime, zone: str) -> datetime | None:
    """The naive local clock time of a UTC instant in an IANA zone (None for an unknown zone)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return start_utc.astimezone(tz).replace(tzinfo=None)


def utc_offset(start_utc: datetime, zone: str) -> timedelta | None:
    try:
        return start_utc.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive value is taken as already being UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
