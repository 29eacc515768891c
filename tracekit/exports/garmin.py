"""Garmin's "Export your data": activity summaries and the original uploads.

Summaries: `DI_CONNECT/DI-Connect-Fitness/<user>_<n>_summarizedActivities.json`, each a list
holding `{"summarizedActivitiesExport": [ … ]}`; per activity `activityId`, `name`,
`activityType` (a key such as "road_biking", or an object with `typeKey`), `sportType`,
`startTimeGmt` and `startTimeLocal` (ms since 1970; the local one is the wall clock written as
if it were UTC), `duration`/`elapsedDuration`/`movingDuration` (ms), `distance` (cm),
`avgHr`/`maxHr`, `startLatitude`/`startLongitude` (degrees) and a numeric `timeZoneId`. The
zone is taken from the start position when its offset agrees with local − GMT.

Uploads: `DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_*.zip`, zips of every file the
devices uploaded — activities and many non-activity FIT files (monitoring, sleep, settings),
skipped by the FIT file type. Which summary a file belongs to (`owner_of`):
1. an activity id in the file name (a run of 6+ digits equal to a summary's id, as in
   "<user>_<activityId>.fit" or "<activityId>_ACTIVITY.fit") whose summary starts within
   10 minutes of the file — the name alone is not trusted, an upload id can look the same;
2. else the one summary starting within 60 s of the file's start (none or several: no link,
   and the matcher decides by its scores).
"""

import bisect
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracekit.exports.records import Incoming
from tracekit.files.importer import FailedItem
from tracekit.providers.base import RemoteActivity
from tracekit.sports import Sport, from_label
from tracekit.timezones import zone_at

SOURCE = "garmin_export"
SUMMARIES_FOLDER = "DI_CONNECT/DI-Connect-Fitness/"
SUMMARIES_MARK = "summarizedActivities"
NAMED_WINDOW = timedelta(minutes=10)
TIME_WINDOW = timedelta(seconds=60)
_EPOCH = datetime(1970, 1, 1)
_DIGITS = re.compile(r"\d{6,}")


def is_summaries_file(name: str) -> bool:
    return name.startswith(SUMMARIES_FOLDER) and SUMMARIES_MARK in name and name.endswith(".json")


@dataclass
class GarminExport:
    activities: list[Incoming] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)
    _by_id: dict[str, datetime] = field(default_factory=dict)
    _starts: list[tuple[datetime, str]] = field(default_factory=list)

    def index(self) -> None:
        self._by_id = {
            a.activity.provider_id: a.activity.start_utc
            for a in self.activities
            if a.activity.start_utc is not None
        }
        self._starts = sorted((start, key) for key, start in self._by_id.items())

    def owner_of(self, name: str, start_utc: datetime | None) -> str | None:
        if start_utc is None:
            return None
        base = name.rsplit("/", 1)[-1]
        digits: str
        for digits in _DIGITS.findall(base):
            start = self._by_id.get(digits)
            if start is not None and abs(start - start_utc) <= NAMED_WINDOW:
                return digits
        low = bisect.bisect_left(self._starts, (start_utc - TIME_WINDOW, ""))
        high = bisect.bisect_right(self._starts, (start_utc + TIME_WINDOW, "\uffff"))
        near = self._starts[low:high]
        if len(near) != 1:
            return None
        only: str = near[0][1]
        return only


def read_summaries(stream: IO[bytes], export: GarminExport, display: str) -> None:
    try:
        data = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        export.failed.append(FailedItem(display, f"not readable JSON ({exc})"))
        return
    for item in _summaries(data):
        try:
            export.activities.append(Incoming(summary_activity(item)))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            export.failed.append(
                FailedItem(f"{display} activity {item.get('activityId')}", f"skipped: {exc}")
            )


def _summaries(data: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    blocks = data if isinstance(data, list) else [data]
    for block in blocks:
        if not isinstance(block, dict):
            continue
        inner = block.get("summarizedActivitiesExport")
        if isinstance(inner, list):
            found.extend(i for i in inner if isinstance(i, dict))
        elif "activityId" in block:
            found.append(block)
    return found


def _ms(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    return _EPOCH + timedelta(milliseconds=float(value))


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value) / 1000


def _type_key(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("typeKey")
    return str(value) if value else None


def summary_activity(item: dict[str, Any]) -> RemoteActivity:
    activity_id = item["activityId"]
    if isinstance(activity_id, bool) or not str(activity_id).isdigit():
        raise ValueError(f"activityId {activity_id!r} is not a number")
    gmt = _ms(item.get("startTimeGmt"))
    if gmt is None:
        raise ValueError("no startTimeGmt")
    start_utc = gmt.replace(tzinfo=UTC)
    local = _ms(item.get("startTimeLocal"))
    raw_type = _type_key(item.get("activityType")) or _type_key(item.get("sportType"))
    sport = from_label(raw_type)
    if sport is Sport.OTHER:
        sport = from_label(_type_key(item.get("sportType")))
    lat, lon = _position(item)
    distance = item.get("distance")
    return RemoteActivity(
        provider_id=str(activity_id),
        start_utc=start_utc,
        sport=sport,
        raw_type=raw_type[:64] if raw_type else None,
        start_local=local,
        timezone=_zone(start_utc, local, lat, lon, item.get("timeZoneId")),
        elapsed_s=_seconds(item.get("elapsedDuration") or item.get("duration")),
        moving_s=_seconds(item.get("movingDuration")),
        distance_m=None if distance is None else float(distance) / 100,
        name=str(item["name"])[:255] if item.get("name") else None,
        description=str(item["description"]) if item.get("description") else None,
        avg_hr=_float(item.get("avgHr")),
        max_hr=_float(item.get("maxHr")),
        start_lat=lat,
        start_lon=lon,
        payload={"source": SOURCE, **item},
    )


def _float(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def _position(item: dict[str, Any]) -> tuple[float | None, float | None]:
    lat, lon = _float(item.get("startLatitude")), _float(item.get("startLongitude"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _zone(
    start_utc: datetime,
    local: datetime | None,
    lat: float | None,
    lon: float | None,
    zone_id: Any,
) -> str | None:
    candidates = []
    if lat is not None and lon is not None:
        candidates.append(zone_at(lat, lon))
    if isinstance(zone_id, str) and "/" in zone_id:
        candidates.append(zone_id)
    for name in candidates:
        if not name:
            continue
        try:
            offset = start_utc.astimezone(ZoneInfo(name)).utcoffset()
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if local is None or offset == local - start_utc.replace(tzinfo=None):
            return name
    return None
