"""TCX decoding: lap totals, several activities per file, trackpoint extras, hostile input."""

import io
import math
from datetime import UTC, datetime, timedelta

import pytest

from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.files.tcx import decode_tcx
from tracekit.sports import Sport

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
START = datetime(2024, 5, 4, 8, 0, tzinfo=UTC)
MILLI_DEGREE_M = 6_371_008.8 * math.radians(0.001)
REFUSED = "refused: the file declares XML entities (possible XML bomb)"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def trackpoint(
    time: datetime | None,
    lat: float | None = None,
    lon: float | None = None,
    *,
    alt: float | None = None,
    odometer: float | None = None,
    hr: int | None = None,
) -> str:
    parts = [f"<Time>{stamp(time)}</Time>" if time else ""]
    if lat is not None and lon is not None:
        parts.append(
            f"<Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
            f"<LongitudeDegrees>{lon}</LongitudeDegrees></Position>"
        )
    if alt is not None:
        parts.append(f"<AltitudeMeters>{alt}</AltitudeMeters>")
    if odometer is not None:
        parts.append(f"<DistanceMeters>{odometer}</DistanceMeters>")
    if hr is not None:
        parts.append(f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>")
    return f"<Trackpoint>{''.join(parts)}</Trackpoint>"


def lap(
    start: datetime,
    seconds: float,
    metres: float,
    *,
    calories: int | None = None,
    avg_hr: int | None = None,
    max_hr: int | None = None,
    points: list[str] | None = None,
) -> str:
    body = (
        f"<TotalTimeSeconds>{seconds}</TotalTimeSeconds><DistanceMeters>{metres}</DistanceMeters>"
    )
    if calories is not None:
        body += f"<Calories>{calories}</Calories>"
    if avg_hr is not None:
        body += f"<AverageHeartRateBpm><Value>{avg_hr}</Value></AverageHeartRateBpm>"
    if max_hr is not None:
        body += f"<MaximumHeartRateBpm><Value>{max_hr}</Value></MaximumHeartRateBpm>"
    body += "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
    if points is not None:
        body += f"<Track>{''.join(points)}</Track>"
    return f'<Lap StartTime="{stamp(start)}">{body}</Lap>'


def activity(sport: str, activity_id: str, *laps: str, device: str | None = None) -> str:
    creator = (
        f'<Creator xsi:type="Device_t"><Name>{device}</Name><UnitId>1</UnitId></Creator>'
        if device
        else ""
    )
    return f'<Activity Sport="{sport}"><Id>{activity_id}</Id>{"".join(laps)}{creator}</Activity>'


def tcx(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<TrainingCenterDatabase xmlns="{TCX_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"{body}<Author><Name>Garmin Connect</Name></Author></TrainingCenterDatabase>"
    ).encode()


def activities(*items: str) -> bytes:
    return tcx(f"<Activities>{''.join(items)}</Activities>")


def line(start: datetime, lat: float, lon: float, n: int, step_s: int = 10) -> list[str]:
    """`n` trackpoints heading north at 5 m/s with a matching odometer."""
    return [
        trackpoint(
            start + timedelta(seconds=i * step_s),
            lat + i * 0.00045,
            lon,
            odometer=round(i * 0.45 * MILLI_DEGREE_M, 2),
        )
        for i in range(n)
    ]


def decode(data: bytes) -> list[ActivitySummary]:
    return decode_tcx(io.BytesIO(data))


def only(data: bytes) -> ActivitySummary:
    summaries = decode(data)
    assert len(summaries) == 1
    return summaries[0]


def refused_with(data: bytes) -> str:
    with pytest.raises(ActivityFileError) as caught:
        decode(data)
    return str(caught.value)


def test_every_lap_counts_towards_the_totals() -> None:
    laps = [
        lap(START, 600, 3000, calories=200, avg_hr=120, max_hr=150),
        lap(START + timedelta(seconds=600), 900, 4000, calories=300, avg_hr=150, max_hr=170),
        lap(START + timedelta(seconds=1500), 300, 1000, calories=100, avg_hr=130, max_hr=160),
    ]
    summary = only(activities(activity("Biking", stamp(START), *laps, device="Edge 530 ")))
    assert summary.format is FileFormat.TCX
    assert summary.start_utc == START
    assert summary.elapsed_s == 1800
    assert summary.moving_s == 1800
    assert summary.distance_m == 8000
    assert summary.calories == 600
    # Weighted by lap time: (120×600 + 150×900 + 130×300) / 1800.
    assert summary.avg_hr == pytest.approx(246_000 / 1800)
    assert summary.max_hr == 170
    assert summary.sport is Sport.RIDE
    assert summary.raw_type == "Biking"
    assert summary.device == "Edge 530"


def test_each_activity_of_a_multisport_file_is_its_own_summary() -> None:
    run_start, ride_start = START, START + timedelta(hours=1)
    session = (
        f"<MultiSportSession><Id>{stamp(START)}</Id>"
        f"<FirstSport>{activity('Running', stamp(run_start), lap(run_start, 1200, 4000))}"
        "</FirstSport>"
        f"<NextSport>{activity('Biking', stamp(ride_start), lap(ride_start, 2400, 20000))}"
        "</NextSport></MultiSportSession>"
    )
    run, ride = decode(activities(session))
    assert (run.sport, run.start_utc, run.distance_m) == (Sport.RUN, run_start, 4000)
    assert (ride.sport, ride.start_utc, ride.distance_m) == (Sport.RIDE, ride_start, 20000)


def test_activities_side_by_side_give_several_summaries_in_file_order() -> None:
    first = activity("Running", stamp(START), lap(START, 60, 200))
    later = START + timedelta(days=1)
    second = activity("Other", stamp(later), lap(later, 60, 100))
    summaries = decode(activities(first, second))
    assert [(s.start_utc, s.sport) for s in summaries] == [(START, Sport.RUN), (later, Sport.OTHER)]


def test_laps_without_trackpoints_still_import_without_a_place() -> None:
    summary = only(activities(activity("Running", stamp(START), lap(START, 1800, 5000))))
    assert summary.start_utc == START
    assert summary.elapsed_s == 1800
    assert summary.distance_m == 5000
    assert summary.timezone is None
    assert summary.start_local is None
    assert summary.start_lat is None
    assert summary.track == ()
    assert summary.ascent_m is None


def test_trackpoints_give_the_place_the_preview_and_the_climb() -> None:
    lat, lon = 35.6812, 139.7671
    points = [
        trackpoint(START + timedelta(seconds=10 * i), lat + i * 0.00045, lon, alt=alt)
        for i, alt in enumerate([40.0, 41.0, 40.0, 45.0, 52.0, 50.0])
    ]
    summary = only(
        activities(activity("Running", stamp(START), lap(START, 50, 250, points=points)))
    )
    assert summary.timezone == "Asia/Tokyo"
    assert summary.start_local == datetime(2024, 5, 4, 17, 0)
    assert (summary.start_lat, summary.start_lon) == (lat, lon)
    assert summary.track[0] == (lat, lon)
    assert summary.ascent_m == pytest.approx(12.0)


def test_a_new_york_activity_on_the_dst_day_gets_the_summer_offset() -> None:
    start = datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # 03:30 EDT, half an hour after the change
    points = line(start, 40.7829, -73.9654, 4)
    summary = only(
        activities(activity("Running", stamp(start), lap(start, 30, 150, points=points)))
    )
    assert summary.timezone == "America/New_York"
    assert summary.start_local == datetime(2024, 3, 10, 3, 30)


def test_a_stop_the_timer_ran_through_is_not_moving_time() -> None:
    lat, lon = 47.3769, 8.5417

    def riding(seconds: int, steps: int) -> str:  # 50 m a step, so 5 m/s at a step per 10 s
        at = START + timedelta(seconds=seconds)
        return trackpoint(at, lat + steps * 0.00045, lon, odometer=steps * 50.0)

    points = [riding(10 * k, k) for k in range(7)]  # 60 s riding
    points.append(riding(180, 6))  # two minutes at a red light
    points += [riding(180 + 10 * k, 6 + k) for k in range(1, 7)]  # 60 s more
    summary = only(
        activities(activity("Biking", stamp(START), lap(START, 240, 600, points=points)))
    )
    assert summary.elapsed_s == 240
    assert summary.moving_s == 120


def test_an_indoor_ride_whose_odometer_never_moves_keeps_its_lap_time() -> None:
    points = [
        trackpoint(START + timedelta(seconds=10 * i), odometer=0.0, hr=120 + i) for i in range(61)
    ]
    summary = only(activities(activity("Biking", stamp(START), lap(START, 600, 0, points=points))))
    assert summary.moving_s == 600
    assert summary.avg_hr == pytest.approx(150)  # no lap average: the trackpoints' mean
    assert summary.max_hr == 180


def test_only_the_creator_names_the_device() -> None:
    plan = (
        '<Training VirtualPartner="false"><Plan Type="Workout"><Name>Tempo</Name></Plan></Training>'
    )
    plain = activity("Running", stamp(START), lap(START, 60, 200))
    summary = only(activities(plain.replace("</Activity>", plan + "</Activity>")))
    assert summary.device is None


def test_the_first_lap_start_stands_in_for_an_unreadable_id() -> None:
    summary = only(activities(activity("Running", "my run", lap(START, 60, 200))))
    assert summary.start_utc == START


def test_an_activity_without_any_time_is_refused() -> None:
    points = trackpoint(None, 47.0, 8.0) + trackpoint(None, 47.001, 8.0)
    data = activities(
        '<Activity Sport="Running"><Lap><TotalTimeSeconds>60</TotalTimeSeconds>'
        f"<Track>{points}</Track></Lap></Activity>"
    )
    assert refused_with(data) == "no activity in this file (track points have no times)"


def test_a_file_with_only_courses_is_refused() -> None:
    course = f"<Courses><Course><Name>Loop</Name><Track>{''.join(line(START, 47, 8, 3))}"
    data = tcx(course + "</Track></Course></Courses>")
    assert refused_with(data) == "no activity in this file"


def test_whitespace_before_the_declaration_and_a_bom_are_tolerated() -> None:
    data = activities(activity("Running", stamp(START), lap(START, 60, 200)))
    assert only(b"          " + data).start_utc == START
    assert only(b"\xef\xbb\xbf" + data).start_utc == START


def test_entity_expansion_and_external_entities_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<TrainingCenterDatabase xmlns="{TCX_NS}"><Author><Name>&b;</Name></Author>'
        "</TrainingCenterDatabase>"
    ).encode()
    assert refused_with(bomb) == REFUSED
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<TrainingCenterDatabase xmlns="{TCX_NS}"><Activities><Activity Sport="Running">'
        "<Id>&e;</Id></Activity></Activities></TrainingCenterDatabase>"
    ).encode()
    assert refused_with(xxe) == REFUSED


def test_broken_or_foreign_files_are_refused_with_a_clear_message() -> None:
    data = activities(activity("Running", stamp(START), lap(START, 60, 200)))
    assert refused_with(data[:-40]).startswith("not valid XML: ")
    assert refused_with(b"") == "empty file"
    gpx = b'<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1"/>'
    assert refused_with(gpx) == "not a TCX file"
