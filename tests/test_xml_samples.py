"""The shared corpus of real GPX and TCX files: each decodes or is refused cleanly, and the
values agree with gpxpy and with the same ride exported in the other format."""

import os
from datetime import UTC, datetime
from pathlib import Path

import gpxpy
import pytest

from tracekit.files.gpx import decode_gpx
from tracekit.files.summary import ActivityFileError, ActivitySummary
from tracekit.files.tcx import decode_tcx
from tracekit.sports import Sport


def _samples() -> Path | None:
    configured = os.environ.get("TRACEKIT_SAMPLES")
    folder = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "samples"
    )
    return folder if folder.is_dir() else None


SAMPLES = _samples()
pytestmark = pytest.mark.skipif(
    SAMPLES is None,
    reason="the shared sample corpus (../shared/samples or TRACEKIT_SAMPLES) is absent",
)
GPX_FILES = sorted((SAMPLES / "gpx").glob("*.gpx")) if SAMPLES else []
TCX_FILES = sorted((SAMPLES / "tcx").glob("*.tcx")) if SAMPLES else []


def _decode(path: Path) -> list[ActivitySummary]:
    with path.open("rb") as stream:
        return decode_gpx(stream) if path.suffix == ".gpx" else decode_tcx(stream)


def _sample(kind: str, name: str) -> Path:
    assert SAMPLES is not None
    return SAMPLES / kind / name


def _refusal(path: Path) -> str:
    with pytest.raises(ActivityFileError) as caught:
        _decode(path)
    return str(caught.value)


@pytest.mark.parametrize("path", GPX_FILES + TCX_FILES, ids=lambda p: p.name)
def test_every_sample_decodes_or_is_refused_in_one_line(path: Path) -> None:
    try:
        summaries = _decode(path)
    except ActivityFileError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert summaries
    for summary in summaries:
        assert summary.start_utc.utcoffset() is not None
        assert summary.elapsed_s is None or summary.elapsed_s >= 0
        assert summary.distance_m is None or summary.distance_m >= 0


def _gpxpy_timed_tracks(path: Path) -> list[tuple[datetime, float, float]]:
    """(start, elapsed s, 2-D length m) of each track gpxpy finds times in."""
    with path.open(encoding="utf-8-sig") as text:
        parsed = gpxpy.parse(text)
    tracks = []
    for track in parsed.tracks:
        bounds = track.get_time_bounds()
        if bounds.start_time is None or bounds.end_time is None:
            continue
        start = bounds.start_time
        if start.tzinfo is None:  # GPX times are UTC when they say nothing
            start = start.replace(tzinfo=UTC)
        elapsed = (bounds.end_time - bounds.start_time).total_seconds()
        tracks.append((start, elapsed, track.length_2d()))
    return tracks


@pytest.mark.parametrize("path", GPX_FILES, ids=lambda p: p.name)
def test_gpx_start_duration_and_distance_agree_with_gpxpy(path: Path) -> None:
    try:
        summaries = _decode(path)
    except ActivityFileError:
        pytest.skip("refused; see the refusal tests")
    expected = _gpxpy_timed_tracks(path)
    assert len(summaries) == len(expected)
    for summary, (start, elapsed, length) in zip(summaries, expected, strict=True):
        assert abs((summary.start_utc - start).total_seconds()) <= 1
        assert summary.elapsed_s == pytest.approx(elapsed, abs=1)
        assert summary.distance_m == pytest.approx(length, rel=0.01, abs=1)


def test_the_same_ride_as_tcx_and_as_strava_gpx_agrees() -> None:
    (tcx,) = _decode(_sample("tcx", "sweatpy__activity_4801048867.tcx"))
    (gpx,) = _decode(_sample("gpx", "sweatpy__4801048867_strava.gpx"))
    assert abs((tcx.start_utc - gpx.start_utc).total_seconds()) <= 60
    assert tcx.distance_m is not None and gpx.distance_m is not None
    assert gpx.distance_m == pytest.approx(tcx.distance_m, rel=0.03)
    assert tcx.sport is gpx.sport is Sport.RIDE
    assert tcx.timezone == gpx.timezone == "Europe/Amsterdam"


def test_a_gpx_with_an_undeclared_namespace_prefix_is_refused() -> None:
    message = _refusal(_sample("gpx", "sportslib__6037744996.gpx"))
    assert message == "not valid XML: unbound prefix: line 17, column 121"


def test_a_garmin_connect_tcx_with_spaces_before_the_declaration_imports() -> None:
    (summary,) = _decode(_sample("tcx", "sportslib__6281425038.tcx"))
    assert summary.start_utc == datetime(2016, 9, 12, 11, 19, 55, tzinfo=UTC)
    assert summary.sport is Sport.RUN
    assert summary.distance_m == pytest.approx(4157, abs=1)
    assert summary.timezone == "Europe/Paris"


def test_gpx_files_without_a_recorded_track_are_refused_for_the_right_reason() -> None:
    only_routes = "no activity in this file (only routes/waypoints)"
    assert _refusal(_sample("gpx", "gpxpy__route.gpx")) == only_routes
    assert _refusal(_sample("gpx", "gpxpy__unicode_with_bom.gpx")) == only_routes
    no_times = "no activity in this file (track points have no times)"
    assert _refusal(_sample("gpx", "gc__A_ride_mapped_on_11_22_2011.gpx")) == no_times
    no_points = "no activity in this file (no track points)"
    assert _refusal(_sample("gpx", "gc__MetadataOnly.gpx")) == no_points


def test_a_multisport_tcx_gives_one_summary_per_leg() -> None:
    summaries = _decode(_sample("tcx", "gc__activity_165850259_multi-session.tcx"))
    assert [s.sport for s in summaries] == [Sport.RUN, Sport.RIDE, Sport.RUN, Sport.RIDE]
    assert all(s.device == "Forerunner305 (Unit ID 3815748186)" for s in summaries)


def test_a_1901_timestamp_is_kept_as_written() -> None:
    (summary,) = _decode(_sample("gpx", "gpxpy__Mojstrovka.gpx"))
    assert summary.start_utc.year == 1901
    assert summary.timezone == "Europe/Ljubljana"
