"""TCX files: one summary per `<Activity>`, computed while the file streams past.

A multisport session (`MultiSportSession` → `FirstSport`/`NextSport`) and some exports hold
several activities; each becomes its own summary. Totals come from the laps, which the device
wrote from its own timer and odometer: elapsed time, distance and calories are the sums over all
laps (the original app read the first lap only, so multi-lap rides lost most of their length),
average heart rate is the laps' averages weighted by lap time, maximum heart rate the highest lap
maximum (the trackpoints' mean and maximum stand in when no lap carries heart rate). Trackpoints
add what laps lack: position, time zone, preview track, ascent, and the stops that make moving
time shorter than the laps' timer time.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from tracekit.files.points import NO_TIMES, PointStats, parse_float, parse_time
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.files.xml_safety import XmlFile, XmlRoot
from tracekit.sports import from_label


def decode_tcx(stream: BinaryIO) -> list[ActivitySummary]:
    """Summaries of the activities of a TCX file that have a start time."""
    xml = XmlFile(stream)
    if xml.root.name != "TrainingCenterDatabase":
        raise ActivityFileError("not a TCX file")
    reader = _TcxReader(xml.root)
    xml.parse(reader.start, reader.end, reader.text.append)
    if reader.summaries:
        return reader.summaries
    if reader.saw_activity:
        raise ActivityFileError(NO_TIMES)
    raise ActivityFileError("no activity in this file")


@dataclass
class _Lap:
    """The texts of one `<Lap>`'s totals, parsed when the lap closes."""

    start: str | None
    seconds: str | None = None
    distance: str | None = None
    calories: str | None = None
    avg_hr: str | None = None
    max_hr: str | None = None


@dataclass
class _Activity:
    """What one `<Activity>` has shown so far: lap totals and trackpoint statistics."""

    raw_type: str
    stats: PointStats = field(default_factory=PointStats)
    id_text: str | None = None
    device: str | None = None
    first_lap_start: datetime | None = None
    elapsed_s: float | None = None
    distance_m: float | None = None
    calories: float | None = None
    max_hr: float | None = None
    hr_time_sum: float = 0.0
    hr_time: float = 0.0

    def add_lap(self, lap: _Lap) -> None:
        if self.first_lap_start is None:
            self.first_lap_start = parse_time(lap.start)
        seconds = parse_float(lap.seconds)
        self.elapsed_s = _plus(self.elapsed_s, seconds)
        self.distance_m = _plus(self.distance_m, parse_float(lap.distance))
        self.calories = _plus(self.calories, parse_float(lap.calories))
        avg_hr = parse_float(lap.avg_hr)
        if avg_hr is not None and seconds is not None and seconds > 0:
            self.hr_time_sum += avg_hr * seconds
            self.hr_time += seconds
        max_hr = parse_float(lap.max_hr)
        if max_hr is not None and (self.max_hr is None or max_hr > self.max_hr):
            self.max_hr = max_hr

    def moving_s(self) -> float | None:
        """The laps' time, less the pauses the trackpoints show (see PointStats).

        Lap time is the device's timer, which already leaves out auto-pauses; trackpoints also
        reveal stops the timer kept running through. Without a trackpoint timeline (or without
        laps) the one source there is stands.
        """
        if not self.stats.elapsed_s:
            return self.elapsed_s
        if self.elapsed_s is None:
            return self.stats.moving_s
        return min(self.elapsed_s, self.stats.moving_s)

    def summary(self) -> ActivitySummary | None:
        stats = self.stats
        start = parse_time(self.id_text) or self.first_lap_start or stats.first_time
        if start is None:
            return None
        zone, local = stats.place(start)
        lat, lon = stats.first_position or (None, None)
        return ActivitySummary(
            format=FileFormat.TCX,
            start_utc=start,
            sport=from_label(self.raw_type),
            raw_type=self.raw_type,
            elapsed_s=self.elapsed_s,
            moving_s=self.moving_s(),
            distance_m=self.distance_m,
            start_local=local,
            timezone=zone,
            device=self.device,
            avg_hr=self.hr_time_sum / self.hr_time if self.hr_time else stats.avg_hr,
            max_hr=self.max_hr if self.max_hr is not None else stats.max_hr,
            ascent_m=stats.ascent_m,
            calories=self.calories,
            start_lat=lat,
            start_lon=lon,
            track=stats.sampler.finish(),
        )


class _TcxReader:
    """Builds activity summaries from expat's element callbacks.

    A value counts only where the schema puts it: `DistanceMeters` inside a trackpoint is the
    device's odometer, directly in a lap the lap's distance; `Value` belongs to whichever heart
    rate element opened last; `Name` is the device's only inside `Creator`.
    """

    __slots__ = (
        "activity",
        "activity_tag",
        "altitude_tag",
        "avg_hr_tag",
        "calories_tag",
        "creator_tag",
        "distance_tag",
        "hr_field",
        "id_tag",
        "in_creator",
        "in_point",
        "lap",
        "lap_tag",
        "lat_tag",
        "lon_tag",
        "max_hr_tag",
        "name_tag",
        "point",
        "saw_activity",
        "seconds_tag",
        "summaries",
        "text",
        "time_tag",
        "track_tag",
        "trackpoint_tag",
        "value_tag",
    )

    def __init__(self, root: XmlRoot) -> None:
        tag = root.tag
        self.activity_tag, self.lap_tag, self.track_tag = tag("Activity"), tag("Lap"), tag("Track")
        self.trackpoint_tag, self.time_tag = tag("Trackpoint"), tag("Time")
        self.lat_tag, self.lon_tag = tag("LatitudeDegrees"), tag("LongitudeDegrees")
        self.altitude_tag, self.distance_tag = tag("AltitudeMeters"), tag("DistanceMeters")
        self.value_tag, self.seconds_tag = tag("Value"), tag("TotalTimeSeconds")
        self.calories_tag, self.id_tag = tag("Calories"), tag("Id")
        self.avg_hr_tag, self.max_hr_tag = tag("AverageHeartRateBpm"), tag("MaximumHeartRateBpm")
        self.creator_tag, self.name_tag = tag("Creator"), tag("Name")
        self.summaries: list[ActivitySummary] = []
        self.text: list[str] = []  # character data since the last element opened
        self.activity: _Activity | None = None
        self.lap: _Lap | None = None
        self.hr_field = ""
        self.in_creator = False
        self.in_point = False
        self.point: dict[str, str] = {}  # a trackpoint's child texts by element name
        self.saw_activity = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.text.clear()
        if self.in_point:
            return
        if tag == self.trackpoint_tag:
            self.in_point = True
            self.point = {}
        elif self.activity is None:
            if tag == self.activity_tag:
                self.activity = _Activity((attrib.get("Sport") or "").strip())
                self.lap = None
                self.in_creator = False
        elif tag == self.track_tag:
            self.activity.stats.new_segment()
        elif tag == self.lap_tag:
            self.lap = _Lap(attrib.get("StartTime"))
        elif tag == self.avg_hr_tag or tag == self.max_hr_tag:
            self.hr_field = tag
        elif tag == self.creator_tag:
            self.in_creator = True

    def end(self, tag: str) -> None:
        if self.in_point:
            point = self.point
            if tag != self.trackpoint_tag:
                # Every element inside the point; only the leaves read below matter (the one
                # `Value` in a trackpoint is its heart rate's).
                point[tag] = "".join(self.text)
                return
            self.in_point = False
            # Courses hold trackpoints too; only an activity's are a recording.
            if self.activity is not None:
                self.activity.stats.add(
                    parse_time(point.get(self.time_tag)),
                    parse_float(point.get(self.lat_tag)),
                    parse_float(point.get(self.lon_tag)),
                    parse_float(point.get(self.altitude_tag)),
                    parse_float(point.get(self.value_tag)),
                    parse_float(point.get(self.distance_tag)),
                )
            return
        activity = self.activity
        if activity is None:
            return
        lap = self.lap
        if lap is not None:
            if tag == self.seconds_tag:
                lap.seconds = "".join(self.text)
            elif tag == self.distance_tag:
                lap.distance = "".join(self.text)
            elif tag == self.calories_tag:
                lap.calories = "".join(self.text)
            elif tag == self.value_tag:
                if self.hr_field == self.avg_hr_tag:
                    lap.avg_hr = "".join(self.text)
                elif self.hr_field == self.max_hr_tag:
                    lap.max_hr = "".join(self.text)
            elif tag == self.lap_tag:
                activity.add_lap(lap)
                self.lap = None
        elif tag == self.id_tag:
            activity.id_text = "".join(self.text)
        elif tag == self.name_tag and self.in_creator:
            activity.device = "".join(self.text).strip() or None
        elif tag == self.creator_tag:
            self.in_creator = False
        elif tag == self.activity_tag:
            self.saw_activity = True
            summary = activity.summary()
            if summary is not None:
                self.summaries.append(summary)
            self.activity = None


def _plus(total: float | None, value: float | None) -> float | None:
    """A sum over laps that stays None until some lap carries the value."""
    if value is None:
        return total
    return value if total is None else total + value
