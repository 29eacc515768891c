"""Writing FIT files for tests and demo data, on top of fit-tool (BSD-3).

fit-tool is the source of truth for the FIT profile here: message and field numbers, base
types, scales and offsets, enum values, definition messages and the file header all come from
it, so the files are not written with the same understanding our decoder reads them with.

Building fit-tool message objects is slow, though: one RecordMessage is ~80 Field objects
(≈0.3 ms), a SessionMessage ≈0.55 ms, and FitFileBuilder writes a 60-point file in ≈30 ms —
minutes for a 3,000-file demo library or a 200k-record test file. So each message kind is
compiled once from a fit-tool message into its definition bytes and a `struct` layout
(`_Codec`), and every message after that is a single `struct.pack`. tests/test_fit.py checks
that the packed bytes equal fit-tool's own encoding. Files are streamed: memory does not
grow with the number of records.
"""

import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import BinaryIO

from fastcrc import crc16
from fit_tool.data_message import DataMessage
from fit_tool.definition_message import DefinitionMessage
from fit_tool.fit_file_header import FitFileHeader
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    FileType,
    GarminProduct,
    Manufacturer,
    Sport,
    SubSport,
)
from fit_tool.record import Record

type Target = str | os.PathLike[str] | BinaryIO
# (manufacturer, product): a fit-tool/FIT profile name ("garmin", "edge_530") or a number.
type Device = tuple[str, str | int]
type Value = float | int | Enum | None

FIT_EPOCH_MS = 631_065_600_000
INDOOR_RECORD_STEP_S = 10  # legs without points get a record every this many seconds
_BATCH = 4096  # records packed per write


@dataclass(frozen=True, slots=True)
class FitLeg:
    """One session of the file: a whole activity, or one leg of a multisport one.

    `sport`/`sub_sport` are FIT profile names ("cycling", "road"); `points` become one record
    each, spread evenly over `elapsed_s`; without points the records carry no position.
    """

    sport: str
    elapsed_s: float
    sub_sport: str | None = None
    distance_m: float | None = None
    moving_s: float | None = None
    points: Sequence[tuple[float, float]] = ()
    avg_hr: int | None = None
    max_hr: int | None = None
    ascent_m: int | None = None
    calories: int | None = None


def write_activity(
    target: Target,
    *,
    start_utc: datetime,
    sport: str,
    elapsed_s: float,
    sub_sport: str | None = None,
    distance_m: float | None = None,
    moving_s: float | None = None,
    points: Sequence[tuple[float, float]] | None = None,
    utc_offset_s: int | None = None,
    device: Device | None = None,
    avg_hr: int | None = None,
    max_hr: int | None = None,
    ascent_m: int | None = None,
    calories: int | None = None,
) -> None:
    """A one-session activity file.

    `utc_offset_s` is the device's offset, written as activity.local_timestamp (None: absent).
    """
    leg = FitLeg(
        sport=sport,
        elapsed_s=elapsed_s,
        sub_sport=sub_sport,
        distance_m=distance_m,
        moving_s=moving_s,
        points=points or (),
        avg_hr=avg_hr,
        max_hr=max_hr,
        ascent_m=ascent_m,
        calories=calories,
    )
    write_multisport(
        target, start_utc=start_utc, legs=[leg], utc_offset_s=utc_offset_s, device=device
    )


def write_multisport(
    target: Target,
    *,
    start_utc: datetime,
    legs: Sequence[FitLeg],
    utc_offset_s: int | None = None,
    device: Device | None = None,
) -> None:
    """An activity file with one session per leg, each starting when the previous one ends.

    Laid out like a device writes it: file_id, a timer start event, then per leg its records,
    a lap and a session, and finally a timer stop event and the activity message.
    """
    if not legs:
        raise ValueError("an activity needs at least one leg")
    start_ms = _fit_ms(start_utc)
    parts: list[tuple[int, Iterable[bytes]]] = [
        _one(_codec("file_id"), *_file_id(FileType.ACTIVITY, start_ms, device)),
        _one(_codec("event"), start_ms, Event.TIMER, EventType.START),
    ]
    leg_start_ms = start_ms
    for index, leg in enumerate(legs):
        parts.extend(_leg(leg, leg_start_ms, index))
        leg_start_ms += round(leg.elapsed_s * 1000)
    end_ms = leg_start_ms
    timer_s = sum(leg.elapsed_s if leg.moving_s is None else leg.moving_s for leg in legs)
    local_s = None if utc_offset_s is None else (end_ms - FIT_EPOCH_MS) // 1000 + utc_offset_s
    parts += [
        _one(_codec("event"), end_ms, Event.TIMER, EventType.STOP_ALL),
        _one(
            _codec("activity"),
            end_ms,
            timer_s,
            len(legs),
            Activity.AUTO_MULTI_SPORT if len(legs) > 1 else Activity.MANUAL,
            Event.ACTIVITY,
            EventType.STOP,
            local_s,
        ),
    ]
    _write(target, parts)


def write_non_activity(
    target: Target,
    *,
    file_type: str = "settings",
    time_created: datetime | None = None,
    device: Device | None = None,
) -> None:
    """A FIT file of another type (a FIT profile name: "settings", "monitoring_b", "device"…),
    as found beside the activities in a device or account export."""
    created = time_created or datetime(2026, 1, 1, tzinfo=UTC)
    kind = FileType[file_type.upper()]
    _write(target, [_one(_codec("file_id"), *_file_id(kind, _fit_ms(created), device))])


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Codec:
    """One message kind compiled from fit-tool: its definition and a packer for its fields."""

    definition: bytes  # the definition message, record header included
    layout: struct.Struct  # record header byte + the fields, in definition order
    header: int
    # Per field: (scale, offset) as fit-tool applies them, and the raw invalid value.
    encodings: tuple[tuple[float | None, float | None, int], ...]

    @property
    def size(self) -> int:
        return self.layout.size

    def pack(self, *values: Value) -> bytes:
        raw: list[int] = []
        for value, (scale, offset, invalid) in zip(values, self.encodings, strict=True):
            if value is None:
                raw.append(invalid)
            elif isinstance(value, Enum):
                raw.append(int(value.value))
            elif (scale is None or scale == 1.0) and not offset:
                raw.append(int(value))
            else:  # the same rounding as fit-tool's Field.scale_offset_value
                raw.append(round((value + (offset or 0.0)) * (scale or 1.0)))
        return self.layout.pack(self.header, *raw)


# Message kind → (fit-tool message class, local message number, fields in fit-tool's order).
_KINDS: dict[str, tuple[type[DataMessage], int, tuple[str, ...]]] = {
    "file_id": (
        FileIdMessage,
        0,
        ("type", "manufacturer", "product", "serial_number", "time_created"),
    ),
    "event": (EventMessage, 1, ("timestamp", "event", "event_type")),
    "record": (
        RecordMessage,
        2,
        ("timestamp", "position_lat", "position_long", "heart_rate", "distance"),
    ),
    "indoor_record": (RecordMessage, 3, ("timestamp", "heart_rate", "distance")),
    "lap": (
        LapMessage,
        4,
        (
            "timestamp",
            "start_time",
            "start_position_lat",
            "start_position_long",
            "total_elapsed_time",
            "total_timer_time",
            "total_distance",
            "sport",
        ),
    ),
    "session": (
        SessionMessage,
        5,
        (
            "timestamp",
            "start_time",
            "start_position_lat",
            "start_position_long",
            "sport",
            "sub_sport",
            "total_elapsed_time",
            "total_timer_time",
            "total_distance",
            "total_calories",
            "avg_heart_rate",
            "max_heart_rate",
            "total_ascent",
            "first_lap_index",
            "num_laps",
        ),
    ),
    "activity": (
        ActivityMessage,
        6,
        (
            "timestamp",
            "total_timer_time",
            "num_sessions",
            "type",
            "event",
            "event_type",
            "local_timestamp",
        ),
    ),
}


@cache
def _codec(kind: str) -> _Codec:
    """Compile a message kind once per process from a fit-tool message with its fields set."""
    message_class, local_id, names = _KINDS[kind]
    message = message_class()
    message.local_id = local_id
    fields = []
    for name in names:
        found = message.get_field_by_name(name)
        if found is None:
            raise LookupError(f"fit-tool's {message_class.__name__} has no field {name!r}")
        found.set_encoded_value(0, 0, check_validity=False)  # present → in the definition
        fields.append(found)
    definition = DefinitionMessage.from_data_message(message)
    order = [d.field_id for d in definition.field_definitions]
    if order != [f.field_id for f in fields]:
        raise LookupError(f"{kind}: fields must be listed in fit-tool's order, got {names}")
    return _Codec(
        definition=Record.from_message(definition).to_bytes(),
        layout=struct.Struct("<B" + "".join(f.base_type.struct_format for f in fields)),
        header=local_id,
        encodings=tuple((f.scale, f.offset, f.base_type.invalid_raw_value()) for f in fields),
    )


def _one(codec: _Codec, *values: Value) -> tuple[int, Iterable[bytes]]:
    data = codec.definition + codec.pack(*values)
    return len(data), (data,)


def _file_id(kind: FileType, created_ms: int, device: Device | None) -> tuple[Value, ...]:
    manufacturer: Value = None
    product: Value = None
    if device is not None:
        maker, model = device
        manufacturer = Manufacturer[maker.upper()]
        product = GarminProduct[model.upper()] if isinstance(model, str) else model
    return (kind, manufacturer, product, 0x1234_5678, created_ms)


def _leg(leg: FitLeg, start_ms: int, index: int) -> list[tuple[int, Iterable[bytes]]]:
    elapsed_ms = round(leg.elapsed_s * 1000)
    end_ms = start_ms + elapsed_ms
    moving_s = leg.elapsed_s if leg.moving_s is None else leg.moving_s
    first = leg.points[0] if leg.points else (None, None)
    sport = Sport[leg.sport.upper()]
    sub_sport = SubSport[leg.sub_sport.upper()] if leg.sub_sport else None
    lap = _codec("lap").pack(
        end_ms, start_ms, *first, leg.elapsed_s, moving_s, leg.distance_m, sport
    )
    session = _codec("session").pack(
        end_ms,
        start_ms,
        *first,
        sport,
        sub_sport,
        leg.elapsed_s,
        moving_s,
        leg.distance_m,
        leg.calories,
        leg.avg_hr,
        leg.max_hr,
        leg.ascent_m,
        index,
        1,
    )
    codec = _codec("record" if leg.points else "indoor_record")
    count = len(leg.points) or int(leg.elapsed_s // INDOOR_RECORD_STEP_S) + 1
    closing = _codec("lap").definition + lap + _codec("session").definition + session
    return [
        (len(codec.definition), (codec.definition,)),
        (count * codec.size, _records(codec, leg, start_ms, elapsed_ms, count)),
        (len(closing), (closing,)),
    ]


def _records(
    codec: _Codec, leg: FitLeg, start_ms: int, elapsed_ms: int, count: int
) -> Iterator[bytes]:
    """The leg's records in batches, timestamps and distance spread evenly over the leg."""
    span = max(count - 1, 1)
    batch: list[bytes] = []
    for i in range(count):
        stamp = start_ms + elapsed_ms * i // span // 1000 * 1000
        distance = None if leg.distance_m is None else leg.distance_m * i / span
        if leg.points:
            lat, lon = leg.points[i]
            batch.append(codec.pack(stamp, lat, lon, leg.avg_hr, distance))
        else:
            batch.append(codec.pack(stamp, leg.avg_hr, distance))
        if len(batch) == _BATCH:
            yield b"".join(batch)
            batch.clear()
    if batch:
        yield b"".join(batch)


def _fit_ms(moment: datetime) -> int:
    """Milliseconds since 1970 on whole seconds, as fit-tool's date_time fields take them."""
    if moment.tzinfo is None:
        raise ValueError("FIT times must be timezone-aware")
    return int(moment.timestamp()) * 1000


def _write(target: Target, parts: list[tuple[int, Iterable[bytes]]]) -> None:
    """Header, the parts as they are produced, then the CRC of everything before it."""
    if isinstance(target, str | os.PathLike):
        with Path(target).open("wb") as stream:
            _write(stream, parts)
        return
    header = FitFileHeader(records_size=sum(size for size, _ in parts), gen_crc=True).to_bytes()
    target.write(header)
    crc = crc16.arc(header)
    for _, chunks in parts:
        for chunk in chunks:
            target.write(chunk)
            crc = crc16.arc(chunk, initial=crc)
    target.write(struct.pack("<H", crc))
