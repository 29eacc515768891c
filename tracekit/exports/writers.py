"""Writing Strava- and Garmin-style account exports, for tests, the benchmark and demo data.

The layouts follow what the services send (see `tracekit.exports.strava` and
`tracekit.exports.garmin`); the activity files are real FIT/GPX files from Tracekit's writers.
"""

import csv
import gzip
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracekit.files.fit_writer import write_activity, write_non_activity
from tracekit.files.gpx_writer import gpx_bytes
from tracekit.geo import loop_route

# FIT sport → (Strava activity type, Garmin activityType key).
_TYPES = {
    "cycling": ("Ride", "road_biking"),
    "running": ("Run", "running"),
    "walking": ("Walk", "walking"),
    "swimming": ("Swim", "lap_swimming"),
    "hiking": ("Hike", "hiking"),
}
NON_ACTIVITY_TYPES = ("monitoring_b", "settings", "device", "monitoring_daily", "totals")

STRAVA_HEADER = [
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Private Note",
    "Activity Gear",
    "Filename",
    "Athlete Weight",
    "Bike Weight",
    "Elapsed Time",
    "Moving Time",
    "Distance",
    "Max Speed",
    "Average Speed",
    "Elevation Gain",
    "Elevation Loss",
    "Max Heart Rate",
    "Average Heart Rate",
    "Calories",
    "Commute",
    "From Upload",
    "Media",
]


@dataclass(frozen=True, slots=True)
class ExportActivity:
    activity_id: int
    start_utc: datetime
    sport: str = "cycling"  # a FIT sport name
    elapsed_s: float = 3600.0
    distance_m: float = 30_000.0
    name: str = "Morning Ride"
    gear: str | None = None
    lat: float = 41.98
    lon: float = 2.82
    utc_offset_s: int = 7200
    points: int = 120
    file_format: str | None = "fit"  # "fit", "gpx" or None (a manual entry: no file)
    description: str = ""


def activity_file(activity: ExportActivity) -> bytes:
    route = loop_route(activity.lat, activity.lon, activity.distance_m, max(activity.points, 2))
    if activity.file_format == "gpx":
        return gpx_bytes(
            activity.start_utc,
            route,
            step_s=activity.elapsed_s / max(activity.points - 1, 1),
            name=activity.name,
            kind=activity.sport,
        )
    buffer = io.BytesIO()
    write_activity(
        buffer,
        start_utc=activity.start_utc,
        sport=activity.sport,
        elapsed_s=activity.elapsed_s,
        distance_m=activity.distance_m,
        points=route,
        utc_offset_s=activity.utc_offset_s,
        avg_hr=140,
        max_hr=172,
    )
    return buffer.getvalue()


def non_activity_file(index: int) -> bytes:
    buffer = io.BytesIO()
    write_non_activity(
        buffer,
        file_type=NON_ACTIVITY_TYPES[index % len(NON_ACTIVITY_TYPES)],
        time_created=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=index),
    )
    return buffer.getvalue()


def _strava_date(moment: datetime) -> str:
    """Like Strava writes it, in UTC: "Jan 5, 2024, 6:30:12 AM"."""
    m = moment.astimezone(UTC)
    return f"{m:%b} {m.day}, {m.year}, {m.hour % 12 or 12}:{m:%M:%S} {m:%p}"


def strava_filename(activity: ExportActivity) -> str:
    if activity.file_format is None:
        return ""
    suffix = ".gpx" if activity.file_format == "gpx" else ".fit.gz"
    return f"activities/{activity.activity_id}{suffix}"


def write_strava_export(
    target: Path,
    activities: Sequence[ExportActivity],
    bikes: Iterable[str] = (),
    shoes: Iterable[str] = (),
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """A Strava bulk export zip: activities.csv, bikes.csv, shoes.csv, activities/…"""
    rows = io.StringIO(newline="")
    writer = csv.writer(rows)
    writer.writerow(STRAVA_HEADER)
    for a in activities:
        strava_type = _TYPES.get(a.sport, ("Workout", "other"))[0]
        values = {
            0: str(a.activity_id),
            1: _strava_date(a.start_utc),
            2: a.name,
            3: strava_type,
            4: a.description,
            5: str(round(a.elapsed_s)),
            6: f"{a.distance_m / 1000:.2f}",
            7: "172.0",
            9: "false",
            11: a.gear or "",
            12: strava_filename(a),
            15: f"{a.elapsed_s:.1f}",
            16: f"{a.elapsed_s - 60:.1f}",
            17: f"{a.distance_m:.1f}",
            20: "120.0",
            22: "172.0",
            23: "140.0",
            24: "650.0",
            25: "0.0",
        }
        writer.writerow([values.get(i, "") for i in range(len(STRAVA_HEADER))])
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("activities.csv", rows.getvalue())
        archive.writestr("bikes.csv", _gear_csv("Bike", bikes))
        archive.writestr("shoes.csv", _gear_csv("Shoe", shoes))
        archive.writestr("profile.csv", "Athlete ID,Email Address\n1,a@example.com\n")
        for a in activities:
            name = strava_filename(a)
            if not name:
                continue
            data = activity_file(a)
            archive.writestr(name, gzip.compress(data) if name.endswith(".gz") else data)
        for name, data in (extra_members or {}).items():
            archive.writestr(name, data)
    return target


def _gear_csv(kind: str, names: Iterable[str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(
        [f"{kind} Name", f"{kind} Brand", f"{kind} Model", f"{kind} Default Sport Types"]
    )
    for name in names:
        writer.writerow([name, name.split()[0], " ".join(name.split()[1:]), ""])
    return out.getvalue()


def garmin_summary(activity: ExportActivity) -> dict[str, object]:
    gmt_ms = int(activity.start_utc.timestamp() * 1000)
    garmin_type = _TYPES.get(activity.sport, ("Workout", "other"))[1]
    return {
        "activityId": activity.activity_id,
        "uuidMsb": 0,
        "name": activity.name,
        "activityType": garmin_type,
        "sportType": activity.sport.upper(),
        "startTimeGmt": gmt_ms,
        "startTimeLocal": gmt_ms + activity.utc_offset_s * 1000,
        "beginTimestamp": gmt_ms,
        "duration": activity.elapsed_s * 1000,
        "elapsedDuration": activity.elapsed_s * 1000,
        "movingDuration": (activity.elapsed_s - 60) * 1000,
        "distance": activity.distance_m * 100,
        "avgHr": 140.0,
        "maxHr": 172.0,
        "startLatitude": activity.lat,
        "startLongitude": activity.lon,
        "timeZoneId": 124,
        "manufacturer": "GARMIN",
    }


def write_garmin_export(
    target: Path,
    activities: Sequence[ExportActivity],
    non_activity: int = 0,
    user: str = "athlete@example.com",
    per_part: int = 2000,
    summaries_per_file: int = 10_000,
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """A Garmin "Export your data" zip: summaries JSON and nested UploadedFiles zips, the
    activity files interleaved with `non_activity` monitoring/settings/… FIT files."""
    files: list[tuple[str, bytes | None]] = []
    for a in activities:
        if a.file_format is not None:
            files.append((f"{user}_{a.activity_id}.{a.file_format}", None))
    for index in range(non_activity):
        files.append((f"{user}_{9_000_000_000 + index}.fit", non_activity_file(index)))
    files.sort(key=lambda f: f[0])
    by_name = {f"{user}_{a.activity_id}.{a.file_format}": a for a in activities if a.file_format}
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        fitness = "DI_CONNECT/DI-Connect-Fitness/"
        for part, start in enumerate(range(0, max(len(activities), 1), summaries_per_file)):
            chunk = activities[start : start + summaries_per_file]
            document = [{"summarizedActivitiesExport": [garmin_summary(a) for a in chunk]}]
            archive.writestr(
                f"{fitness}{user}_{part}_summarizedActivities.json", json.dumps(document)
            )
        archive.writestr(f"{fitness}{user}_gear.json", json.dumps([{"gearDTOS": []}]))
        archive.writestr("DI_CONNECT/DI-Connect-User/user_profile.json", "{}")
        uploads = "DI_CONNECT/DI-Connect-Uploaded-Files/"
        for part, start in enumerate(range(0, len(files), per_part), start=1):
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as nested:
                for name, data in files[start : start + per_part]:
                    nested.writestr(
                        name, data if data is not None else activity_file(by_name[name])
                    )
            archive.writestr(f"{uploads}UploadedFiles_0-_Part{part}.zip", inner.getvalue())
        for name, data in (extra_members or {}).items():
            archive.writestr(name, data)
    return target
