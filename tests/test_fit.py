"""The FIT decoder on generated files: values a user sees, time zones, and hostile input."""

import contextlib
import io
import random
import struct
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fitdecode
import pytest
from fastcrc import crc16
from fit_tool.definition_message import DefinitionMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    FileType,
    Manufacturer,
    SubSport,
)
from fit_tool.profile.profile_type import Sport as FitSport
from fit_tool.record import Record

from tracekit.files.fit import FIT_EPOCH_S, decode_fit, fit_file_type
from tracekit.files.fit_writer import (
    _KINDS,
    FitLeg,
    _codec,
    write_activity,
    write_multisport,
    write_non_activity,
)
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.sports import Sport

START = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
ZURICH = (47.3769, 8.5417)
TOKYO = (35.6812, 139.7671)


def route(origin: tuple[float, float], count: int = 120) -> list[tuple[float, float]]:
    """A gently curving line heading north-east from `origin`."""
    lat, lon = origin
    return [(lat + i * 1e-4, lon + i * 1.5e-4 + (i % 7) * 1e-5) for i in range(count)]


def activity(**kwargs: Any) -> bytes:
    stream = io.BytesIO()
    defaults: dict[str, Any] = {"start_utc": START, "sport": "cycling", "elapsed_s": 3600.0}
    write_activity(stream, **{**defaults, **kwargs})
    return stream.getvalue()


def decode(data: bytes) -> ActivitySummary:
    return decode_fit(io.BytesIO(data))


def refused(data: bytes) -> str:
    """The message of the ActivityFileError the decoder must raise (any other type fails)."""
    with pytest.raises(ActivityFileError) as caught:
        decode(data)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    return message


# --- values ------------------------------------------------------------------------------------


def test_every_summary_field_round_trips() -> None:
    points = route(ZURICH)
    summary = decode(
        activity(
            sport="cycling",
            sub_sport="gravel_cycling",
            elapsed_s=5400.5,
            moving_s=5000.25,
            distance_m=42195.37,
            points=points,
            utc_offset_s=3600,
            device=("garmin", "edge_530"),
            avg_hr=141,
            max_hr=178,
            ascent_m=612,
            calories=1234,
        )
    )
    assert summary.format is FileFormat.FIT
    assert summary.start_utc == START
    assert summary.sport is Sport.GRAVEL_RIDE
    assert summary.raw_type == "cycling/gravel_cycling"
    assert summary.elapsed_s == pytest.approx(5400.5)
    assert summary.moving_s == pytest.approx(5000.25)
    assert summary.distance_m == pytest.approx(42195.37)
    assert summary.timezone == "Europe/Zurich"
    assert summary.start_local == datetime(2026, 3, 1, 1, 30)
    assert summary.device == "Garmin Edge 530"
    assert summary.avg_hr == 141
    assert summary.max_hr == 178
    assert summary.ascent_m == 612
    assert summary.calories == 1234
    assert summary.start_lat == pytest.approx(ZURICH[0], abs=1e-6)
    assert summary.start_lon == pytest.approx(ZURICH[1], abs=1e-6)
    assert summary.track[0] == pytest.approx(points[0], abs=1e-6)
    assert summary.track[-1] == pytest.approx(points[-1], abs=1e-6)
    assert 2 <= len(summary.track) <= len(points)
    assert summary.legs == ()
    assert summary.name is None


def test_missing_values_stay_missing() -> None:
    summary = decode(activity(sport="running", elapsed_s=600.0))
    assert summary.sport is Sport.RUN
    assert summary.raw_type == "running"
    assert summary.distance_m is None
    assert summary.avg_hr is None
    assert summary.max_hr is None
    assert summary.calories is None
    assert summary.ascent_m is None
    assert summary.device is None


def test_run_bike_run_is_one_multisport_summary_with_legs() -> None:
    legs = [
        FitLeg("running", 1200.0, distance_m=4000.0, points=route(ZURICH, 40), avg_hr=150),
        FitLeg("transition", 90.0, distance_m=100.0),
        FitLeg("cycling", 3600.0, sub_sport="road", distance_m=30000.0, avg_hr=140, max_hr=171),
        FitLeg("transition", 60.0),
        FitLeg("running", 1500.0, distance_m=5000.0, avg_hr=160, max_hr=182),
    ]
    stream = io.BytesIO()
    write_multisport(stream, start_utc=START, legs=legs, utc_offset_s=3600)
    summary = decode(stream.getvalue())

    assert summary.sport is Sport.MULTISPORT
    assert summary.raw_type == "multisport"
    assert summary.start_utc == START
    assert summary.distance_m == pytest.approx(39100.0)
    assert summary.elapsed_s == pytest.approx(6450.0)
    assert summary.max_hr == 182
    assert summary.avg_hr == pytest.approx((150 * 1200 + 140 * 3600 + 160 * 1500) / 6300)
    assert [leg.sport for leg in summary.legs] == [
        Sport.RUN,
        Sport.OTHER,
        Sport.RIDE,
        Sport.OTHER,
        Sport.RUN,
    ]
    assert [leg.raw_type for leg in summary.legs][:3] == ["running", "transition", "cycling/road"]
    assert summary.legs[2].start_utc == START + timedelta(seconds=1290)
    assert summary.legs[3].distance_m is None
    assert summary.timezone == "Europe/Zurich"


def test_several_sessions_of_one_sport_are_not_multisport() -> None:
    stream = io.BytesIO()
    legs = [FitLeg("cycling", 1800.0, distance_m=15000.0), FitLeg("cycling", 1200.0)]
    write_multisport(stream, start_utc=START, legs=legs)
    summary = decode(stream.getvalue())
    assert summary.sport is Sport.RIDE
    assert summary.legs == ()
    assert summary.elapsed_s == pytest.approx(3000.0)
    assert summary.distance_m == pytest.approx(15000.0)


# --- time zones and local clock ----------------------------------------------------------------


def test_tokyo_activity_is_on_the_tokyo_wall_clock() -> None:
    summary = decode(activity(points=route(TOKYO), utc_offset_s=9 * 3600))
    assert summary.timezone == "Asia/Tokyo"
    assert summary.start_local == datetime(2026, 3, 1, 9, 30)
    assert summary.start_utc == START


def test_gps_zone_wins_over_a_device_clock_left_on_home_time() -> None:
    summary = decode(activity(points=route(TOKYO), utc_offset_s=3600))
    assert summary.timezone == "Asia/Tokyo"
    assert summary.start_local == datetime(2026, 3, 1, 9, 30)


def test_indoor_file_without_gps_takes_the_device_offset() -> None:
    summary = decode(activity(sport="training", utc_offset_s=2 * 3600, distance_m=None))
    assert summary.timezone is None
    assert summary.start_lat is None
    assert summary.track == ()
    assert summary.start_local == datetime(2026, 3, 1, 2, 30)


@pytest.mark.parametrize(
    ("device_offset_s", "expected_local"),
    [
        (3600 + 47, datetime(2026, 3, 1, 1, 30)),  # a drifting device clock
        (19800 - 20, datetime(2026, 3, 1, 6, 0)),  # India, +05:30
        (-(3 * 3600 + 1800), datetime(2026, 2, 28, 21, 0)),  # Newfoundland, -03:30
    ],
)
def test_device_offset_is_rounded_to_the_quarter_hour(
    device_offset_s: int, expected_local: datetime
) -> None:
    summary = decode(activity(sport="training", utc_offset_s=device_offset_s))
    assert summary.start_local == expected_local


def test_implausible_device_offset_is_ignored() -> None:
    summary = decode(activity(sport="training", utc_offset_s=20 * 3600))
    assert summary.start_local is None


def test_virtual_ride_map_position_does_not_set_the_zone() -> None:
    summary = decode(activity(sub_sport="virtual_activity", points=route(TOKYO), utc_offset_s=3600))
    assert summary.sport is Sport.VIRTUAL_RIDE
    assert summary.timezone is None
    assert summary.start_local == datetime(2026, 3, 1, 1, 30)
    assert summary.track  # the preview still shows the virtual route


# --- hand-built files: device quirks the writer does not produce -------------------------------


def fit(*messages: bytes) -> bytes:
    """A FIT file around raw messages: 14-byte header with CRC, data, file CRC."""
    data = b"".join(messages)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(data), b".FIT")
    body = header + struct.pack("<H", crc16.arc(header)) + data
    return body + struct.pack("<H", crc16.arc(body))


def define(
    local: int,
    number: int,
    fields: list[tuple[int, int, int]],
    *,
    big: bool = False,
    dev: list[tuple[int, int, int]] | None = None,
) -> bytes:
    """A definition message; fields and dev fields are (number, size, base type) triples."""
    header = 0x40 | local | (0x20 if dev else 0)
    out = struct.pack(">BBBHB" if big else "<BBBHB", header, 0, int(big), number, len(fields))
    out += b"".join(bytes(f) for f in fields)
    if dev:
        out += bytes([len(dev)]) + b"".join(bytes(f) for f in dev)
    return out


def fit_time(moment: datetime) -> int:
    return int(moment.timestamp()) - FIT_EPOCH_S


SINT32, UINT32, UINT16, ENUM, STRING = 0x85, 0x86, 0x84, 0x00, 0x07


def test_big_endian_developer_fields_compressed_timestamps_and_unterminated_strings() -> None:
    lat, lon = (round(c * 2**31 / 180) for c in TOKYO)
    file_id = define(0, 0, [(0, 1, ENUM), (1, 2, UINT16), (8, 8, STRING)], big=True)
    record = define(
        1, 20, [(253, 4, UINT32), (1, 4, SINT32), (0, 4, SINT32)], dev=[(0, 3, 0), (1, 1, 0)]
    )
    session = define(
        2,
        18,
        [(2, 4, UINT32), (7, 4, UINT32), (9, 4, UINT32), (5, 1, ENUM), (16, 1, 2)],
        big=True,
    )
    records = [
        # normal header, then compressed-timestamp headers (local 1, offsets 1 and 2)
        bytes([1]) + struct.pack("<Iii", fit_time(START), lon, lat) + b"abcd",
        bytes([0x80 | 1 << 5 | 1]) + struct.pack("<Iii", 0, lon + 1000, lat + 1000) + b"efgh",
        bytes([0x80 | 1 << 5 | 2]) + struct.pack("<Iii", 0, lon + 2000, lat + 2000) + b"ijkl",
    ]
    data = fit(
        file_id,
        bytes([0]) + struct.pack(">BH8s", 4, 255, b"Watch6,1"),  # string fills its field
        record,
        *records,
        session,
        bytes([2]) + struct.pack(">IIIBB", fit_time(START), 1_800_000, 500_000, 1, 0xFF),
    )
    summary = decode(data)
    assert summary.device == "Watch6,1"
    assert summary.sport is Sport.RUN
    assert summary.elapsed_s == pytest.approx(1800.0)
    assert summary.distance_m == pytest.approx(5000.0)
    assert summary.avg_hr is None  # 0xFF is FIT's "invalid"
    assert summary.start_lat == pytest.approx(TOKYO[0], abs=1e-6)
    assert summary.start_lon == pytest.approx(TOKYO[1], abs=1e-6)
    assert len(summary.track) == 3
    assert summary.timezone == "Asia/Tokyo"


def test_misaligned_field_sizes_are_skipped_not_misread() -> None:
    # A uint32 total_distance declared 1 byte wide (COROS does this): no value, the rest intact.
    session = define(0, 18, [(2, 4, UINT32), (9, 1, UINT32), (7, 4, UINT32)])
    summary = decode(fit(session, bytes([0]) + struct.pack("<IBI", fit_time(START), 7, 60_000)))
    assert summary.distance_m is None
    assert summary.elapsed_s == pytest.approx(60.0)


def test_a_clock_that_was_never_set_still_gives_the_local_start() -> None:
    # Times below 0x10000000 count seconds since power-on; only local_timestamp is absolute.
    local_end = datetime(2012, 2, 13, 12, 21, 3, tzinfo=UTC)
    session = define(0, 18, [(2, 4, UINT32), (253, 4, UINT32), (7, 4, UINT32)])
    act = define(1, 34, [(253, 4, UINT32), (5, 4, UINT32)])
    summary = decode(
        fit(
            session,
            bytes([0]) + struct.pack("<III", 1000, 4600, 3_600_000),
            act,
            bytes([1]) + struct.pack("<II", 4600, fit_time(local_end)),
        )
    )
    assert summary.start_local == datetime(2012, 2, 13, 11, 21, 3)
    assert summary.timezone is None


# --- hostile input -----------------------------------------------------------------------------


def test_empty_file() -> None:
    assert refused(b"") == "empty file"


@pytest.mark.parametrize(
    "data",
    [
        bytes(random.Random(7).getrandbits(8) for _ in range(5000)),
        b'<?xml version="1.0"?><gpx></gpx>',
        b"PK\x03\x04" + bytes(100),
        b"\x01\x02",
    ],
    ids=["random", "gpx", "zip", "two-bytes"],
)
def test_not_a_fit_file(data: bytes) -> None:
    assert refused(data) == "not a FIT file"


def test_truncated_at_every_cut_point() -> None:
    data = activity(points=route(ZURICH, 30), utc_offset_s=3600)
    for cut in range(1, len(data)):
        message = refused(data[:cut])
        assert message.startswith("truncated: the file ends"), (cut, message)
    assert refused(data[: len(data) // 2]).startswith("truncated: the file ends inside a message")
    assert refused(data[:-1]).endswith("before its CRC")


def test_a_flipped_bit_in_a_position_fails_the_crc() -> None:
    data = bytearray(activity(points=route(ZURICH, 30)))
    position = bytes(data).index(struct.pack("<i", round(ZURICH[0] * 2**31 / 180)))
    data[position + 1] ^= 0x10
    assert refused(bytes(data)) == "file CRC mismatch: the file is corrupt"


def test_any_single_flipped_bit_is_refused() -> None:
    data = activity(points=route(ZURICH, 20), utc_offset_s=3600, avg_hr=120)
    for index in range(len(data)):
        broken = bytearray(data)
        broken[index] ^= 1 << (index % 8)
        refused(bytes(broken))


def test_random_damage_never_raises_anything_else() -> None:
    data = activity(points=route(ZURICH, 40), avg_hr=130, distance_m=1000.0)
    rng = random.Random(20260301)
    for _ in range(600):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(broken))
            match rng.randrange(3):
                case 0:
                    broken[at] = rng.randrange(256)
                case 1:
                    del broken[at : at + rng.randint(1, 30)]
                case _:
                    broken[at:at] = rng.randbytes(rng.randint(1, 30))
        with contextlib.suppress(ActivityFileError):
            decode(bytes(broken))


@pytest.mark.parametrize("file_type", ["settings", "monitoring_b", "device"])
def test_non_activity_files_are_refused_by_type(file_type: str) -> None:
    stream = io.BytesIO()
    write_non_activity(stream, file_type=file_type)
    assert refused(stream.getvalue()) == f"not an activity file (FIT file type: {file_type})"


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_non_activity_file_is_refused_without_reading_the_rest() -> None:
    stream = io.BytesIO()
    write_non_activity(stream, file_type="monitoring_b")
    counting = CountingStream(stream.getvalue() + bytes(5_000_000))
    with pytest.raises(ActivityFileError, match="monitoring_b"):
        decode_fit(counting)
    assert counting.bytes_read <= 128 * 1024


def test_an_activity_file_without_a_session_is_incomplete() -> None:
    stream = io.BytesIO()
    write_non_activity(stream, file_type="activity")
    assert refused(stream.getvalue()) == "no session in this file (the recording is incomplete)"


def test_header_claiming_a_huge_data_size() -> None:
    data = bytearray(activity(points=route(ZURICH, 10))[:-2])  # as if still being recorded
    data[4:8] = struct.pack("<I", 0xFFFF_FFF0)
    data[12:14] = struct.pack("<H", crc16.arc(bytes(data[:12])))
    message = refused(bytes(data))
    assert message.startswith("truncated: the file ends at byte ")
    assert message.endswith(f"of {14 + 0xFFFF_FFF0 + 2}")


def test_header_crc_mismatch() -> None:
    data = bytearray(activity())
    data[4] ^= 0x01
    assert refused(bytes(data)) == "corrupt header: header CRC mismatch in the FIT header at byte 0"


def test_message_used_before_its_definition() -> None:
    message = refused(fit(bytes([0x0B]) + bytes(10)))
    assert message == "corrupt: local message 11 used before it was defined at byte 14"


def test_unknown_architecture_is_corrupt() -> None:
    definition = bytearray(define(0, 18, [(2, 4, UINT32)]))
    definition[2] = 7
    assert "unknown architecture" in refused(fit(bytes(definition), bytes(5)))


def test_chained_files_keep_the_first_activity() -> None:
    single = activity(points=route(ZURICH), distance_m=1000.0)
    stream = io.BytesIO()
    write_non_activity(stream, file_type="settings")  # e.g. HRM data chained after the activity
    chained = decode(single + stream.getvalue())
    assert chained == decode(single)


def test_a_corrupt_second_header_is_refused() -> None:
    single = activity(points=route(ZURICH))
    message = refused(single + b"\x0e\x10garbage-not-a-header")
    assert message == f"corrupt header: the bytes after the FIT data at byte {len(single)} " + (
        "are not another FIT header"
    )


# --- file type sniffing --------------------------------------------------------------------------


def test_file_type_from_the_first_bytes() -> None:
    stream = io.BytesIO()
    write_non_activity(stream, file_type="settings")
    assert fit_file_type(stream.getvalue()[:200]) == "settings"
    assert fit_file_type(activity(points=route(ZURICH))[:200]) == "activity"
    assert fit_file_type(activity()[:20]) is None  # ends before the file_id message
    assert fit_file_type(b"<gpx></gpx>" + bytes(20)) is None


# --- memory and the writer -----------------------------------------------------------------------


def test_a_huge_file_decodes_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.fit"
    points = [(47.0 + i * 1e-6, 8.0 + (i % 1000) * 1e-6) for i in range(200_000)]
    write_activity(path, start_utc=START, sport="cycling", elapsed_s=200_000.0, points=points)
    del points
    assert path.stat().st_size > 3_000_000
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            summary = decode_fit(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.elapsed_s == pytest.approx(200_000.0)
    assert len(summary.track) <= 300
    # Reading the file whole would take its 3.6 MB at once; streaming stays near 0.4 MB.
    assert peak < 1.5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# Values in the units fit-tool's message properties take (ms since 1970, degrees, metres…).
SAMPLE_VALUES: dict[str, Any] = {
    "manufacturer": Manufacturer.GARMIN,
    "product": 3121,
    "serial_number": 0x1234_5678,
    "time_created": 1_772_325_000_000,
    "timestamp": 1_772_328_600_000,
    "start_time": 1_772_325_000_000,
    "event": Event.TIMER,
    "event_type": EventType.STOP_ALL,
    "position_lat": -33.8688197,
    "position_long": 151.2092955,
    "start_position_lat": 47.3769,
    "start_position_long": -8.5417,
    "heart_rate": 151,
    "distance": 1234.56,
    "total_elapsed_time": 3600.5,
    "total_timer_time": 3500.25,
    "total_distance": 42195.37,
    "sport": FitSport.CYCLING,
    "sub_sport": SubSport.GRAVEL_CYCLING,
    "total_calories": 700,
    "avg_heart_rate": 141,
    "max_heart_rate": 178,
    "total_ascent": 612,
    "first_lap_index": 2,
    "num_laps": 1,
    "num_sessions": 3,
    "local_timestamp": 1_141_297_400,
}


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_writer_packs_messages_exactly_as_fit_tool_does(kind: str) -> None:
    message_class, local_id, names = _KINDS[kind]
    types = {"file_id": FileType.SETTINGS, "activity": Activity.AUTO_MULTI_SPORT}
    values = [types[kind] if name == "type" else SAMPLE_VALUES[name] for name in names]
    message = message_class()
    message.local_id = local_id
    for name, value in zip(names, values, strict=True):
        setattr(message, name, value)
    codec = _codec(kind)
    definition = DefinitionMessage.from_data_message(message)
    assert codec.definition == Record.from_message(definition).to_bytes()
    assert codec.pack(*values) == bytes([local_id]) + message.to_bytes()


def test_fitdecode_reads_what_the_writer_writes() -> None:
    data = activity(
        sport="running",
        distance_m=1234.5,
        points=route(TOKYO, 10),
        utc_offset_s=9 * 3600,
        device=("garmin", "fr935"),
        avg_hr=150,
    )
    sessions, records = [], 0
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                if frame.name == "session":
                    sessions.append({f.name: f.value for f in frame.fields})
                records += frame.name == "record"
    assert records == 10
    (session,) = sessions
    assert session["start_time"] == START
    assert session["total_distance"] == pytest.approx(1234.5)
    assert session["sport"] == "running"
    assert session["avg_heart_rate"] == 150
