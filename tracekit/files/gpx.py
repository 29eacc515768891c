"""GPX files: one summary per recorded track, computed while the file streams past.

A GPX file may hold several `<trk>`: GPSBabel dumps of a device's track log put each recording
(often each day) in its own track, so each track with timed points becomes one summary, the way
each `<Activity>` of a TCX file does. Tracks without any time are skipped (they are drawn routes,
not recordings); a file without a single timed track point is refused.
"""

from typing import BinaryIO

from tracekit.files.points import NO_TIMES, PointStats, parse_float, parse_time
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.files.xml_safety import XmlFile, XmlRoot
from tracekit.sports import from_label

_HR_TAGS = frozenset(
    {
        "http://www.garmin.com/xmlschemas/TrackPointExtension/v1}hr",
        "http://www.garmin.com/xmlschemas/TrackPointExtension/v2}hr",
        "http://www.cluetrust.com/XML/GPXDATA/1/0}hr",  # Suunto Movescount, Amazfit
    }
)
# Strava's GPX export writes its numeric activity type. Only the codes that the sample corpus and
# public exports confirm are translated; others keep their number and map to Sport.OTHER.
_STRAVA_TYPES = {"1": "Ride", "9": "Run"}


def decode_gpx(stream: BinaryIO) -> list[ActivitySummary]:
    """Summaries of the timed tracks of a GPX 1.0 or 1.1 file (see the module docstring)."""
    xml = XmlFile(stream)
    if xml.root.name != "gpx":
        raise ActivityFileError("not a GPX file")
    reader = _GpxReader(xml.root)
    xml.parse(reader.start, reader.end, reader.text.append)
    if reader.summaries:
        return reader.summaries
    if reader.saw_points:
        raise ActivityFileError(NO_TIMES)
    if reader.saw_routes:
        raise ActivityFileError("no activity in this file (only routes/waypoints)")
    raise ActivityFileError("no activity in this file (no track points)")


class _GpxReader:
    """Builds track summaries from expat's element callbacks.

    Only a track point's own children are read as point data; names and types count at the
    depth the schema puts them (track name under `<trk>`, file name on the GPX 1.0 root or in
    GPX 1.1 `<metadata>`), so a waypoint's or an author's name never becomes the activity's.
    """

    __slots__ = (
        "depth",
        "device",
        "ele_tag",
        "file_name",
        "in_point",
        "metadata_tag",
        "name_tag",
        "point",
        "route_tags",
        "saw_points",
        "saw_routes",
        "stats",
        "summaries",
        "text",
        "time_tag",
        "top",
        "track_name",
        "track_type",
        "trk_tag",
        "trkpt_tag",
        "trkseg_tag",
        "type_tag",
    )

    def __init__(self, root: XmlRoot) -> None:
        tag = root.tag
        self.trk_tag, self.trkseg_tag, self.trkpt_tag = tag("trk"), tag("trkseg"), tag("trkpt")
        self.time_tag, self.ele_tag = tag("time"), tag("ele")
        self.name_tag, self.type_tag, self.metadata_tag = tag("name"), tag("type"), tag("metadata")
        self.route_tags = frozenset({tag("rte"), tag("wpt")})
        self.device = _text(root.attrib.get("creator"))
        self.summaries: list[ActivitySummary] = []
        self.text: list[str] = []  # character data since the last element opened
        self.depth = 0  # the root element is at depth 1
        self.top = ""  # the root's child being read: metadata, trk, wpt…
        self.stats = PointStats()
        self.file_name: str | None = None
        self.track_name: str | None = None
        self.track_type: str | None = None
        self.in_point = False
        self.point: dict[str, str] = {}  # a track point's attributes and child texts by name
        self.saw_points = False
        self.saw_routes = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.text.clear()
        depth = self.depth = self.depth + 1
        if self.in_point:
            return
        if tag == self.trkpt_tag:
            self.in_point = True
            self.point = attrib
        elif tag == self.trkseg_tag:
            self.stats.new_segment()
        elif depth == 2:
            self.top = tag
            if tag == self.trk_tag:
                self.stats = PointStats()
                self.track_name = self.track_type = None
            elif tag in self.route_tags:
                self.saw_routes = True

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if self.in_point:
            point = self.point
            if tag != self.trkpt_tag:
                # Every element inside the point; only the leaves read below matter.
                point[tag] = "".join(self.text)
                return
            self.in_point = False
            self.saw_points = True
            hr = None
            for hr_tag in _HR_TAGS:
                if hr_tag in point:
                    hr = point[hr_tag]
            self.stats.add(
                parse_time(point.get(self.time_tag)),
                parse_float(point.get("lat")),
                parse_float(point.get("lon")),
                parse_float(point.get(self.ele_tag)),
                parse_float(hr),
            )
        elif depth == 2:
            if tag == self.trk_tag:
                self._finish_track()
            elif tag == self.name_tag:
                self.file_name = _text("".join(self.text))
        elif depth == 3:
            if tag == self.name_tag:
                if self.top == self.trk_tag:
                    self.track_name = _text("".join(self.text))
                elif self.top == self.metadata_tag:
                    self.file_name = _text("".join(self.text))
            elif tag == self.type_tag and self.top == self.trk_tag:
                self.track_type = _text("".join(self.text))

    def _finish_track(self) -> None:
        stats = self.stats
        start = stats.first_time
        if start is None:
            return
        raw_type = self.track_type or ""
        label = raw_type
        device = self.device
        if raw_type in _STRAVA_TYPES and device is not None and device.startswith("StravaGPX"):
            label = _STRAVA_TYPES[raw_type]
        zone, local = stats.place(start)
        lat, lon = stats.first_position or (None, None)
        self.summaries.append(
            ActivitySummary(
                format=FileFormat.GPX,
                start_utc=start,
                sport=from_label(label),
                raw_type=raw_type,
                elapsed_s=stats.elapsed_s,
                moving_s=stats.moving_s,
                distance_m=stats.distance_m,
                start_local=local,
                timezone=zone,
                name=self.track_name or self.file_name,
                device=device,
                avg_hr=stats.avg_hr,
                max_hr=stats.max_hr,
                ascent_m=stats.ascent_m,
                start_lat=lat,
                start_lon=lon,
                track=stats.sampler.finish(),
            )
        )


def _text(value: str | None) -> str | None:
    """Stripped text, or None when there is none (empty names are no names)."""
    if value is None:
        return None
    return value.strip() or None
