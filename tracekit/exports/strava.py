"""Strava's bulk export: activities.csv, bikes.csv, shoes.csv and the original files.

activities.csv has one row per activity. Some headers appear twice: the first "Elapsed Time"
and "Distance" belong to the short summary block at the start of the row (Distance there is in
the athlete's display unit), the later ones to the detailed block (Distance in metres). Tracekit
takes the distance only from the metres column; an export without it keeps the distance out
rather than guess the first column's unit. "Activity Date" is UTC, written like
"Jan 5, 2024, 6:30:12 AM". "Filename" names the original upload inside the export
("activities/123.fit.gz"), empty for manual entries. "Activity Gear" is the gear's name:
the export has no gear ids, so gear gets a placeholder id (`export:<name>`) until an API sync
delivers the real one.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import IO

from tracekit.exports.records import PLACEHOLDER_PREFIX, Incoming
from tracekit.files.importer import FailedItem
from tracekit.providers.base import RemoteActivity, RemoteGear
from tracekit.sports import from_label
from tracekit.spreadsheet.values import CellError, parse_date

SOURCE = "strava_export"


@dataclass
class StravaExport:
    """What the index files say; files are matched to activities by their name."""

    activities: list[Incoming] = field(default_factory=list)
    gear: list[RemoteGear] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)
    by_file: dict[str, str] = field(default_factory=dict)  # "activities/1.fit.gz" → "1"

    def owner_of(self, name: str, start_utc: datetime | None) -> str | None:
        return self.by_file.get(name.removeprefix("./")) or self.by_file.get(
            name.rsplit("/", 1)[-1]
        )


class _Row:
    """A CSV row whose headers may repeat: first() and last() pick the occurrence."""

    def __init__(self, positions: dict[str, list[int]], values: list[str]) -> None:
        self._positions = positions
        self._values = values

    def _at(self, index: int) -> str | None:
        if index >= len(self._values):
            return None
        value = self._values[index].strip()
        return value or None

    def first(self, header: str) -> str | None:
        return next(
            (v for i in self._positions.get(header, ()) if (v := self._at(i)) is not None), None
        )

    def last(self, header: str) -> str | None:
        indexes = self._positions.get(header, [])
        return self._at(indexes[-1]) if indexes else None

    def count(self, header: str) -> int:
        return len(self._positions.get(header, ()))


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        try:
            return float(text.replace(",", "")) if "." in text else None
        except ValueError:
            return None


def parse_start(text: str) -> datetime:
    """ "Jan 5, 2024, 6:30:12 AM" (UTC) → an aware UTC datetime."""
    parsed = parse_date(text, None)
    if parsed.clock is None:
        raise CellError(f"{text!r} has no time of day")
    moment = datetime.combine(parsed.day, parsed.clock or time())
    if parsed.offset is not None:
        return (moment - parsed.offset).replace(tzinfo=UTC)
    return moment.replace(tzinfo=UTC)


def read_activities(stream: IO[bytes], export: StravaExport, display: str) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        export.failed.append(FailedItem(display, "empty activities.csv"))
        return
    positions: dict[str, list[int]] = defaultdict(list)
    for index, name in enumerate(header):
        positions[name.strip()].append(index)
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = _Row(positions, values)
        try:
            export.activities.append(_activity(row))
        except CellError as exc:
            export.failed.append(FailedItem(f"{display} line {line}", str(exc)))
            continue
        filename = row.first("Filename")
        if filename:
            strava_id = export.activities[-1].activity.provider_id
            export.by_file[filename.removeprefix("./")] = strava_id
            export.by_file.setdefault(filename.rsplit("/", 1)[-1], strava_id)


def _activity(row: _Row) -> Incoming:
    strava_id = row.first("Activity ID")
    if not strava_id or not strava_id.isdigit():
        raise CellError(f"no valid Activity ID ({strava_id!r})")
    date_text = row.first("Activity Date")
    if not date_text:
        raise CellError(f"activity {strava_id}: no Activity Date")
    start = parse_start(date_text)
    label = row.first("Activity Type")
    distance = _number(row.last("Distance")) if row.count("Distance") >= 2 else None
    elapsed = _number(row.first("Elapsed Time"))
    gear = row.first("Activity Gear")
    payload = {
        "source": SOURCE,
        "filename": row.first("Filename"),
        "commute": row.first("Commute"),
        "private_note": row.first("Activity Private Note"),
        "distance_display_unit": row.first("Distance"),
    }
    activity = RemoteActivity(
        provider_id=strava_id,
        start_utc=start,
        sport=from_label(label),
        raw_type=label[:64] if label else None,
        elapsed_s=elapsed,
        moving_s=_number(row.first("Moving Time")),
        distance_m=distance,
        name=(row.first("Activity Name") or "")[:255] or None,
        description=row.first("Activity Description"),
        gear_id=(PLACEHOLDER_PREFIX + gear)[:128] if gear else None,
        avg_hr=_number(row.first("Average Heart Rate")),
        max_hr=_number(row.first("Max Heart Rate")),
        ascent_m=_number(row.first("Elevation Gain")),
        calories=_number(row.first("Calories")),
        payload={k: v for k, v in payload.items() if v is not None},
    )
    return Incoming(activity, gear_name=gear)


def read_gear(stream: IO[bytes], kind: str, export: StravaExport) -> None:
    """bikes.csv ("Bike Name","Bike Brand","Bike Model",…) or shoes.csv ("Shoe Name",…)."""
    prefix = "Bike" if kind == "bike" else "Shoe"
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    for values in csv.DictReader(text):
        name = (values.get(f"{prefix} Name") or "").strip()
        if not name:
            name = " ".join(
                part
                for part in (values.get(f"{prefix} Brand"), values.get(f"{prefix} Model"))
                if part and part.strip()
            ).strip()
        if name:
            export.gear.append(
                RemoteGear(provider_gear_id=(PLACEHOLDER_PREFIX + name)[:128], name=name, kind=kind)
            )


def gear_named_in(activities: Iterable[Incoming], known: Iterable[RemoteGear]) -> list[RemoteGear]:
    """The gear lists plus gear that activities name but the lists lack (sold, renamed)."""
    gear = {g.provider_gear_id: g for g in known}
    for item in activities:
        gear_id, name = item.activity.gear_id, item.gear_name
        if gear_id and name and gear_id not in gear:
            gear[gear_id] = RemoteGear(provider_gear_id=gear_id, name=name)
    return list(gear.values())
