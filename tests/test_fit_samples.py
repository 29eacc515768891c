"""The FIT decoder on the shared corpus of real files, checked against fitdecode.

Skipped when the corpus (../shared/samples, or $TRACEKIT_SAMPLES) is not beside this checkout.
"""

import gzip
import os
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

import fitdecode
import pytest

from tracekit.files.fit import decode_fit
from tracekit.files.summary import ActivityFileError, ActivitySummary
from tracekit.sports import Sport


def _fit_samples() -> Path | None:
    configured = os.environ.get("TRACEKIT_SAMPLES")
    root = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "samples"
    )
    return root / "fit" if (root / "fit").is_dir() else None


FIT_DIR = _fit_samples()
if FIT_DIR is None:
    pytest.skip(
        "the shared sample corpus (../shared/samples/fit or $TRACEKIT_SAMPLES/fit) is absent",
        allow_module_level=True,
    )
SAMPLES = sorted(p for p in FIT_DIR.iterdir() if p.is_file())

# Files broken on purpose, and the words their error must contain.
BROKEN = {
    "fitparse__strava-android-app-201.10-b1218918.fit": (
        "corrupt: local message 11 used before it was defined at byte 7471"
    ),
    "fitparse__nick.fit": "runs past the end of the data",
    "sportslib__empty-sessions.fit": "empty file",
}


def _open(path: Path) -> BinaryIO:
    """The file as the importer hands it over: .fit.gz members are read through gzip."""
    if path.name.endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _decode(path: Path) -> ActivitySummary:
    with _open(path) as stream:
        return decode_fit(stream)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_decodes_or_is_refused_with_a_one_line_reason(path: Path) -> None:
    try:
        summary = _decode(path)
    except ActivityFileError as error:
        message = str(error)
        assert message
        assert "\n" not in message
        assert path.name in BROKEN, f"a readable sample was refused: {message}"
        return
    assert path.name not in BROKEN, "a broken sample was accepted"
    assert summary.start_utc.utcoffset() is not None
    assert summary.elapsed_s is None or summary.elapsed_s >= 0


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_known_broken_samples_fail_with_a_clear_message(name: str) -> None:
    assert FIT_DIR is not None
    path = FIT_DIR / name
    with pytest.raises(ActivityFileError) as caught:
        _decode(path)
    assert BROKEN[name] in str(caught.value)


def _reference_sessions(path: Path) -> list[dict[str, object]]:
    """Session values as fitdecode reads them with a strict CRC check; skips what it cannot."""
    sessions: list[dict[str, object]] = []
    try:
        with (
            _open(path) as stream,
            fitdecode.FitReader(stream, check_crc=fitdecode.CrcCheck.RAISE) as reader,
        ):
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "session":
                    sessions.append({f.name: f.value for f in frame.fields})
    except (fitdecode.FitError, EOFError) as error:
        pytest.skip(f"fitdecode cannot read it either: {error}")
    if not sessions:
        pytest.skip("fitdecode finds no session in it")
    return sessions


def _close(ours: float | None, reference: float | None) -> bool:
    if ours is None or reference is None:
        return ours is reference
    return abs(ours - reference) <= 0.005 * abs(reference) + 1e-9


@pytest.mark.filterwarnings("ignore:invalid field size:UserWarning")  # fitdecode on COROS files
@pytest.mark.parametrize("path", [p for p in SAMPLES if p.name not in BROKEN], ids=lambda p: p.name)
def test_summary_agrees_with_fitdecode(path: Path) -> None:
    reference = _reference_sessions(path)
    summary = _decode(path)

    starts = [t for s in reference if isinstance(t := s.get("start_time"), datetime)]
    if starts:  # files whose clock was never set have no absolute start to compare
        assert abs((summary.start_utc - min(starts)).total_seconds()) <= 1

    def total(key: str) -> float | None:
        values = [float(v) for s in reference if isinstance(v := s.get(key), int | float)]
        return sum(values) if values else None

    assert _close(summary.distance_m, total("total_distance"))
    assert _close(summary.elapsed_s, total("total_elapsed_time"))


# What a user sees for a few well-known files.
EXPECTED: dict[str, dict[str, object]] = {
    "tormoder__garmin.fit": {
        "device": "Garmin Edge 530",
        "raw_type": "cycling/road",
        "timezone": "America/Toronto",
        "start_local": datetime(2020, 11, 7, 14, 13, 55),
    },
    "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit": {
        "device": "Hammerhead Karoo 2",
        "timezone": "Europe/London",
    },
    # COROS writes local_timestamp == timestamp; the GPS position puts it in Bogotá (UTC-5).
    "fitparse__coros-pace-2-cycling-misaligned-fields.fit": {
        "device": "COROS PACE 2",
        "timezone": "America/Bogota",
        "start_local": datetime(2020, 10, 25, 6, 10, 19),
    },
    "muktihari__triathlon_summary_last.fit": {"sport": Sport.MULTISPORT, "legs": 5},
    "fitparse__sample_mulitple_header.fit": {"sport": Sport.MULTISPORT, "legs": 5},
    # An FR70 whose clock was never set: only the local wall clock is known.
    "fitparse__compressed-speed-distance.fit": {
        "start_local": datetime(2012, 2, 13, 11, 16, 16),
        "timezone": None,
    },
    # Zwift writes heart rate 0 without a strap, and its map is not where the rider is.
    "fitparse__null_compressed_speed_dist.fit": {
        "sport": Sport.VIRTUAL_RIDE,
        "avg_hr": None,
        "timezone": None,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_well_known_files_read_as_a_user_expects(name: str) -> None:
    assert FIT_DIR is not None
    path = FIT_DIR / name
    if not path.exists():
        pytest.skip(f"{name} is not in this corpus")
    summary = _decode(path)
    for key, expected in EXPECTED[name].items():
        actual = len(summary.legs) if key == "legs" else getattr(summary, key)
        assert actual == expected, key
