"""GPX decoding: the values a user sees, the files they get refused, and bounded memory."""

import builtins
import io
import math
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tracekit.files.gpx import decode_gpx
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.sports import Sport

GPX_1_1 = "http://www.topografix.com/GPX/1/1"
GPX_1_0 = "http://www.topografix.com/GPX/1/0"
TPX = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
START = datetime(2024, 5, 4, 8, 0, tzinfo=UTC)
ZURICH = (47.3769, 8.5417)
# One thousandth of a degree of latitude along a meridian, in metres (R × Δφ).
MILLI_DEGREE_M = 6_371_008.8 * math.radians(0.001)
REFUSED = "refused: the file declares XML entities (possible XML bomb)"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def trkpt(
    lat: float,
    lon: float,
    time: str | None = None,
    ele: float | None = None,
    hr: int | None = None,
) -> str:
    children = ""
    if ele is not None:
        children += f"<ele>{ele}</ele>"
    if time is not None:
        children += f"<time>{time}</time>"
    if hr is not None:
        children += (
            f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{hr}</gpxtpx:hr>"
            "</gpxtpx:TrackPointExtension></extensions>"
        )
    return f'<trkpt lat="{lat}" lon="{lon}">{children}</trkpt>'


def trk(*segments: list[str], name: str | None = None, kind: str | None = None) -> str:
    head = (f"<name>{name}</name>" if name else "") + (f"<type>{kind}</type>" if kind else "")
    body = "".join(f"<trkseg>{''.join(points)}</trkseg>" for points in segments)
    return f"<trk>{head}{body}</trk>"


def gpx(body: str, *, ns: str = GPX_1_1, creator: str = "Tracekit tests") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator="{creator}" xmlns="{ns}" xmlns:gpxtpx="{TPX}">'
        f"{body}</gpx>"
    ).encode()


def timed_line(start: datetime, lat: float, lon: float, n: int, step_s: int = 10) -> list[str]:
    """`n` points heading north at about 5 m/s, like a steady ride."""
    return [
        trkpt(lat + i * 0.00045, lon, stamp(start + timedelta(seconds=i * step_s)))
        for i in range(n)
    ]


def decode(data: bytes) -> list[ActivitySummary]:
    return decode_gpx(io.BytesIO(data))


def only(data: bytes) -> ActivitySummary:
    summaries = decode(data)
    assert len(summaries) == 1
    return summaries[0]


def refused_with(data: bytes) -> str:
    with pytest.raises(ActivityFileError) as caught:
        decode(data)
    return str(caught.value)


def test_a_known_three_point_track_gives_its_distance_climb_and_heart_rate() -> None:
    lat, lon = ZURICH
    points = [
        trkpt(lat, lon, stamp(START), ele=400.0, hr=120),
        trkpt(lat + 0.001, lon, stamp(START + timedelta(seconds=30)), ele=410.0, hr=140),
        trkpt(lat + 0.002, lon, stamp(START + timedelta(seconds=60)), ele=405.0, hr=160),
    ]
    summary = only(gpx(trk(points, name="Morning run", kind="running"), creator="Forerunner 955"))
    assert summary.format is FileFormat.GPX
    assert summary.start_utc == START
    assert summary.elapsed_s == 60
    assert summary.moving_s == 60
    assert summary.distance_m == pytest.approx(2 * MILLI_DEGREE_M, rel=1e-6)
    assert summary.ascent_m == pytest.approx(10)
    assert summary.avg_hr == pytest.approx(140)
    assert summary.max_hr == 160
    assert summary.sport is Sport.RUN
    assert summary.raw_type == "running"
    assert summary.name == "Morning run"
    assert summary.device == "Forerunner 955"
    assert (summary.start_lat, summary.start_lon) == (lat, lon)
    assert summary.timezone == "Europe/Zurich"
    assert summary.start_local == datetime(2024, 5, 4, 10, 0)  # CEST, UTC+2
    assert summary.track == ((47.3769, 8.5417), (47.3779, 8.5417), (47.3789, 8.5417))
    assert summary.calories is None


def test_a_tokyo_track_lands_in_tokyo_time() -> None:
    start = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
    summary = only(gpx(trk(timed_line(start, 35.6812, 139.7671, 5))))
    assert summary.timezone == "Asia/Tokyo"
    assert summary.start_local == datetime(2024, 3, 1, 9, 30)
    assert summary.start_utc == start


def test_new_york_tracks_on_the_dst_day_get_the_offset_of_their_own_start() -> None:
    # Clocks in New York jumped from 02:00 to 03:00 on 10 March 2024 (07:00 UTC).
    before = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)
    after = datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    early, late = decode(
        gpx(
            trk(timed_line(before, 40.7829, -73.9654, 3)) + trk(timed_line(after, 40.79, -73.96, 3))
        )
    )
    assert early.timezone == late.timezone == "America/New_York"
    assert early.start_local == datetime(2024, 3, 10, 1, 30)  # EST, UTC-5
    assert late.start_local == datetime(2024, 3, 10, 3, 30)  # EDT, UTC-4


def test_each_timed_track_is_one_activity_and_untimed_tracks_are_skipped() -> None:
    lat, lon = ZURICH
    drawn = trk([trkpt(lat, lon), trkpt(lat + 0.01, lon)], name="Planned route")
    morning = trk(timed_line(START, lat, lon, 4), name="Morning")
    evening = trk(timed_line(START + timedelta(hours=9), lat, lon, 4), name="Evening")
    summaries = decode(gpx(drawn + morning + evening))
    assert [s.name for s in summaries] == ["Morning", "Evening"]
    assert [s.start_utc for s in summaries] == [START, START + timedelta(hours=9)]


def test_segments_are_not_bridged_by_a_straight_line() -> None:
    lat, lon = ZURICH
    first = [
        trkpt(lat, lon, stamp(START)),
        trkpt(lat + 0.001, lon, stamp(START + timedelta(seconds=30))),
    ]
    # The second segment starts 10 km further north, twenty minutes later.
    later = START + timedelta(minutes=20)
    second = [
        trkpt(lat + 0.091, lon, stamp(later)),
        trkpt(lat + 0.092, lon, stamp(later + timedelta(seconds=30))),
    ]
    summary = only(gpx(trk(first, second)))
    assert summary.distance_m == pytest.approx(2 * MILLI_DEGREE_M, rel=1e-6)
    assert summary.elapsed_s == 20 * 60 + 30
    assert summary.moving_s == 60


def test_moving_time_leaves_out_stops_and_long_pauses() -> None:
    lat, lon = ZURICH
    step = 0.00045  # 50 m
    plan = [  # (seconds from start, metres of latitude steps)
        (0, 0),
        (10, 1),
        (20, 2),  # 20 s moving
        (80, 2),  # stood still for a minute
        (90, 3),  # 10 s moving
        (690, 60),  # ten minutes later and 3 km away: a pause, whatever the speed
        (700, 61),  # 10 s moving
    ]
    points = [trkpt(lat + k * step, lon, stamp(START + timedelta(seconds=t))) for t, k in plan]
    summary = only(gpx(trk(points)))
    assert summary.elapsed_s == 700
    assert summary.moving_s == 40


def test_elevation_noise_adds_no_climb_but_a_real_hill_does() -> None:
    lat, lon = ZURICH
    noisy = [100.0, 101.5, 100.2, 101.8, 100.0, 101.0, 100.5]
    hill = [102.0, 106.0, 110.0, 115.0, 120.0, 118.0, 112.0, 105.0]
    points = [
        trkpt(lat + i * 0.0002, lon, stamp(START + timedelta(seconds=5 * i)), ele=ele)
        for i, ele in enumerate(noisy + hill)
    ]
    assert only(gpx(trk(points))).ascent_m == pytest.approx(20.0)


def test_a_track_without_elevation_or_heart_rate_leaves_those_unknown() -> None:
    summary = only(gpx(trk(timed_line(START, *ZURICH, 3))))
    assert summary.ascent_m is None
    assert summary.avg_hr is None
    assert summary.max_hr is None


def test_sport_comes_from_the_track_type() -> None:
    lat, lon = ZURICH
    assert only(gpx(trk(timed_line(START, lat, lon, 2), kind="cycling"))).sport is Sport.RIDE
    untyped = only(gpx(trk(timed_line(START, lat, lon, 2))))
    assert untyped.sport is Sport.OTHER
    assert untyped.raw_type == ""


def test_strava_numeric_types_are_understood_and_kept_raw() -> None:
    summary = only(gpx(trk(timed_line(START, *ZURICH, 2), kind="9"), creator="StravaGPX"))
    assert summary.sport is Sport.RUN
    assert summary.raw_type == "9"
    other_app = only(gpx(trk(timed_line(START, *ZURICH, 2), kind="9"), creator="Some app"))
    assert other_app.sport is Sport.OTHER


def test_the_file_name_stands_in_for_a_nameless_track_but_no_other_name_does() -> None:
    metadata = (
        "<metadata><author><name>Jane Runner</name></author></metadata>"
        '<wpt lat="47.0" lon="8.0"><name>Fountain</name></wpt>'
    )
    assert only(gpx(metadata + trk(timed_line(START, *ZURICH, 2)))).name is None
    named = "<metadata><name>Lake loop</name><author><name>Jane</name></author></metadata>"
    assert only(gpx(named + trk(timed_line(START, *ZURICH, 2)))).name == "Lake loop"


def test_gpx_1_0_and_namespace_less_files_decode() -> None:
    body = "<name>Old logger</name>" + trk(timed_line(START, *ZURICH, 3))
    old = only(gpx(body, ns=GPX_1_0))
    assert old.name == "Old logger"
    assert old.distance_m == pytest.approx(2 * 50.0, rel=0.01)
    bare = (
        '<?xml version="1.0"?><gpx version="1.1" creator="x">'
        + trk(timed_line(START, *ZURICH, 3))
        + "</gpx>"
    ).encode()
    assert only(bare).start_utc == START


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2015-12-11T15:43:13.000+01:00", datetime(2015, 12, 11, 14, 43, 13, tzinfo=UTC)),
        ("2016-05-27T10:08:47.8Z", datetime(2016, 5, 27, 10, 8, 47, 800000, tzinfo=UTC)),
        ("1901-12-13T20:45:52.2073437Z", datetime(1901, 12, 13, 20, 45, 52, 207343, tzinfo=UTC)),
        ("2013-01-01T12:00:00", datetime(2013, 1, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_become_aware_utc(written: str, meant: datetime) -> None:
    summary = only(gpx(trk([trkpt(*ZURICH, f" {written} ")])))
    assert summary.start_utc == meant
    assert summary.start_utc.utcoffset() == timedelta(0)


def test_a_start_at_the_edge_of_the_calendar_imports_without_a_local_time() -> None:
    # New York's offset would put the local start in year 0, which no calendar here has.
    summary = only(gpx(trk([trkpt(40.78, -73.96, "0001-01-01T00:30:00Z")])))
    assert summary.start_utc == datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    assert summary.timezone == "America/New_York"
    assert summary.start_local is None
    before_year_one = gpx(trk([trkpt(40.78, -73.96, "0001-01-01T00:30:00+01:00")]))
    assert refused_with(before_year_one) == "no activity in this file (track points have no times)"


def test_other_encodings_decode_and_an_unknown_one_is_refused() -> None:
    text = gpx(trk(timed_line(START, *ZURICH, 2), name="Zürich")).decode()
    latin = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert only(latin).name == "Zürich"
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert only(utf16).name == "Zürich"
    unknown = text.replace('encoding="UTF-8"', 'encoding="x-unheard-of"').encode()
    assert refused_with(unknown) == "not valid XML: unknown encoding: x-unheard-of"


def test_a_utf8_bom_and_whitespace_before_the_declaration_are_tolerated() -> None:
    data = gpx(trk(timed_line(START, *ZURICH, 3)))
    assert only(b"\xef\xbb\xbf" + data).start_utc == START
    assert only(b"  \r\n\t " + data).start_utc == START


def test_a_route_or_waypoints_alone_are_not_an_activity() -> None:
    route = '<rte><rtept lat="47.1" lon="8.1"/><rtept lat="47.2" lon="8.2"/></rte>'
    assert refused_with(gpx(route)) == "no activity in this file (only routes/waypoints)"
    waypoint = '<wpt lat="47.1" lon="8.1"><time>2024-05-04T08:00:00Z</time></wpt>'
    assert refused_with(gpx(waypoint)) == "no activity in this file (only routes/waypoints)"
    assert refused_with(gpx("<metadata/>")) == "no activity in this file (no track points)"


def test_track_points_without_times_are_not_an_activity() -> None:
    drawn = trk([trkpt(47.1, 8.1), trkpt(47.2, 8.2)])
    assert refused_with(gpx(drawn)) == "no activity in this file (track points have no times)"


def test_entity_expansion_is_refused() -> None:
    laughs = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE gpx [{laughs}]>'
        f'<gpx xmlns="{GPX_1_1}"><trk><name>&lol9;</name></trk></gpx>'
    ).encode()
    assert refused_with(bomb) == REFUSED


def test_any_document_type_declaration_is_refused() -> None:
    plain = f'<?xml version="1.0"?><!DOCTYPE gpx><gpx xmlns="{GPX_1_1}"/>'.encode()
    assert refused_with(plain) == REFUSED


def test_external_entities_are_refused_without_reading_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("2024-05-04T08:00:00Z")
    opened: list[str] = []
    real_open = builtins.open

    def spying_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spying_open)
    monkeypatch.setattr(io, "open", spying_open)
    for target in (secret.as_uri(), "file:///etc/passwd"):
        xxe = (
            f'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY t SYSTEM "{target}">]>'
            f'<gpx xmlns="{GPX_1_1}"><trk><trkseg><trkpt lat="1" lon="1"><time>&t;</time>'
            "</trkpt></trkseg></trk></gpx>"
        ).encode()
        assert refused_with(xxe) == REFUSED
        external_dtd = (
            f'<?xml version="1.0"?><!DOCTYPE gpx SYSTEM "{target}"><gpx xmlns="{GPX_1_1}"/>'
        ).encode()
        assert refused_with(external_dtd) == REFUSED
    assert not any("secret" in name or "passwd" in name for name in opened)


def test_truncated_xml_is_refused_with_the_parser_message() -> None:
    data = gpx(trk(timed_line(START, *ZURICH, 20)))
    message = refused_with(data[: len(data) * 2 // 3])
    assert message.startswith("not valid XML: ")
    assert "line 2" in message


def test_an_undeclared_namespace_prefix_is_refused() -> None:
    data = gpx(trk([trkpt(*ZURICH, stamp(START)).replace("<time>", "<gpxdata:x/><time>")]))
    assert refused_with(data).startswith("not valid XML: unbound prefix")


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert refused_with(data) == "empty file"


def test_what_is_not_xml_or_not_gpx_is_refused() -> None:
    assert refused_with(b"\x0e\x10\xd9\x07.FIT\x00\x00").startswith("not valid XML: ")
    assert refused_with(b'<?xml version="1.0"?>\n<!-- nothing else -->').startswith(
        "not valid XML: "
    )
    tcx = b'<?xml version="1.0"?><TrainingCenterDatabase xmlns="urn:x"/>'
    assert refused_with(tcx) == "not a GPX file"


def test_a_failing_read_is_reported_as_an_activity_file_error() -> None:
    class Unreadable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError("device not ready")

    with pytest.raises(ActivityFileError, match="could not read the file: device not ready"):
        decode_gpx(io.BufferedReader(Unreadable()))


def _write_long_ride(path: Path, points: int) -> None:
    """A one-segment ride with one point a second, written without holding it in memory."""
    with path.open("w", encoding="ascii") as out:
        out.write(f'<?xml version="1.0"?><gpx version="1.1" xmlns="{GPX_1_1}"><trk><trkseg>\n')
        for i in range(points):
            day, rest = divmod(i, 86_400)
            hours, rest = divmod(rest, 3600)
            minutes, seconds = divmod(rest, 60)
            out.write(
                f'<trkpt lat="{40 + i * 0.00003:.6f}" lon="-3.7"><ele>{600 + i % 50}</ele>'
                f"<time>2024-05-{1 + day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}Z</time>"
                "</trkpt>\n"
            )
        out.write("</trkseg></trk></gpx>\n")


def test_a_200k_point_file_decodes_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.gpx"
    _write_long_ride(path, 200_000)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            (summary,) = decode_gpx(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024
    assert summary.elapsed_s == 199_999
    assert summary.distance_m == pytest.approx(199_999 * 30 * MILLI_DEGREE_M / 1000, rel=1e-3)
    assert 2 <= len(summary.track) <= 300
