"""FIT activity files → ActivitySummary, with a selective reader of our own.

General FIT libraries decode every field of every message (fitdecode ≈ 20k messages/s); a
summary needs a dozen fields from a handful of messages, and record messages are ~80 % of a
file. So this reader walks the record headers, keeps one precompiled `struct.Struct` per local
message definition that extracts only the wanted fields, and skips every other message by its
size with one index step. It streams through a bounded buffer (memory does not grow with the
file) and verifies each file CRC incrementally.

Decisions (see also `_local_clock`):
- A CRC mismatch is an error, not a warning: the importer keeps the original bytes, so precision
  beats salvaging numbers from a damaged file.
- The first `file_id` decides: any type but activity is refused as soon as it is read, so the
  settings/monitoring files of a device export cost a few hundred bytes each.
- Names (manufacturer, product, sport, sub-sport, file type) come from fitdecode's profile tables,
  looked up once per file when the summary is built.
"""

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, BinaryIO

from fastcrc import crc16

from tracekit import timezones
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat, Leg
from tracekit.files.track import TrackSampler
from tracekit.sports import Sport, from_fit

FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z, the origin of FIT date_time values
# date_time values below this count seconds since the device powered on, not since the epoch.
_SYSTEM_TIME_LIMIT = 0x10000000
_SEMICIRCLE_DEG = 180.0 / 2**31
_CHUNK = 64 * 1024
_RUN = 64  # at most this many records are unpacked in one go (bounds the look-ahead slice)
_ACTIVITY_FILE = 4
_MAX_UTC_OFFSET_S = 14 * 3600
_QUARTER_HOUR_S = 900

# What a local message slot does with its data messages.
_SKIP, _RECORD_LAT_LON, _RECORD_LON_LAT, _FILE_ID, _SESSION, _ACTIVITY = range(6)

# Global message number → (kind, {field number: name}) for the only messages a summary reads.
_WANTED: dict[int, tuple[int, dict[int, str]]] = {
    0: (
        _FILE_ID,
        {0: "type", 1: "manufacturer", 2: "product", 4: "time_created", 8: "product_name"},
    ),
    18: (
        _SESSION,
        {
            253: "timestamp",
            2: "start_time",
            3: "lat",
            4: "lon",
            5: "sport",
            6: "sub_sport",
            7: "elapsed",
            8: "timer",
            9: "distance",
            11: "calories",
            16: "avg_hr",
            17: "max_hr",
            22: "ascent",
        },
    ),
    34: (_ACTIVITY, {253: "timestamp", 5: "local_timestamp"}),
    20: (_RECORD_LAT_LON, {0: "lat", 1: "lon"}),
}

# FIT base type number (low 5 bits) → (struct code, size, invalid value); None code = string.
_BASE_TYPES: dict[int, tuple[str | None, int, int | None]] = {
    0: ("B", 1, 0xFF),  # enum
    1: ("b", 1, 0x7F),  # sint8
    2: ("B", 1, 0xFF),  # uint8
    3: ("h", 2, 0x7FFF),  # sint16
    4: ("H", 2, 0xFFFF),  # uint16
    5: ("i", 4, 0x7FFFFFFF),  # sint32
    6: ("I", 4, 0xFFFFFFFF),  # uint32
    7: (None, 1, None),  # string
    8: ("f", 4, None),  # float32: invalid is a NaN pattern
    9: ("d", 8, None),  # float64
    10: ("B", 1, 0),  # uint8z
    11: ("H", 2, 0),  # uint16z
    12: ("I", 4, 0),  # uint32z
    13: ("B", 1, 0xFF),  # byte
    14: ("q", 8, 0x7FFFFFFFFFFFFFFF),  # sint64
    15: ("Q", 8, 0xFFFFFFFFFFFFFFFF),  # uint64
    16: ("Q", 8, 0),  # uint64z
}
_INVALID_SINT32 = 0x7FFFFFFF
_NO_FIELDS = struct.Struct("").unpack_from  # what messages the summary ignores unpack to

# struct's unpack_from (one message) or, for records, iter_unpack (a run of messages).
type _Unpack = Callable[..., Any]
# One wanted field: (name, invalid value, is a string).
type _FieldSpec = tuple[str, int | None, bool]
# A local message definition: (kind, message size incl. its header byte, unpacker, fields).
type _Slot = tuple[int, int, _Unpack, tuple[_FieldSpec, ...]]
type _Values = dict[str, int | float | str | None]


def decode_fit(stream: BinaryIO) -> ActivitySummary:
    """Summarise one FIT activity file read from `stream` (chained FIT files included).

    Raises ActivityFileError with a one-line reason for anything that is not a complete,
    intact activity file; no other exception type escapes for bad content.
    """
    reader = _Reader(stream)
    try:
        reader.read_all()
        return _summarise(reader)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise ActivityFileError(f"corrupt: the file cannot be decoded ({exc})") from exc


def fit_file_type(head: bytes) -> str | None:
    """The FIT file type ("activity", "settings", "monitoring_b"…) named by the first bytes.

    Lets a bulk import skip non-activity files from their first few hundred bytes; None when
    `head` is not FIT or ends before the file_id message.
    """
    if len(head) < 12 or head[8:12] != b".FIT" or head[0] < 12:
        return None
    pos = head[0]
    slots: list[_Slot | None] = [None] * 16
    try:
        while pos < len(head):
            header = head[pos]
            if header & 0xC0 == 0x40:
                size = _definition_size(head, pos, len(head))
                if size is None:
                    return None
                slots[header & 0x0F] = _slot(head[pos + 1 : pos + size])
                pos += size
                continue
            slot = slots[(header >> 5) & 3 if header & 0x80 else header & 0x0F]
            if slot is None or pos + slot[1] > len(head):
                return None
            kind, size, unpack, fields = slot
            if kind == _FILE_ID:
                file_type = _values(fields, unpack(head, pos)).get("type")
                return _name("file", file_type) if isinstance(file_type, int) else None
            pos += size
    except (ActivityFileError, struct.error, ValueError):
        return None
    return None


@dataclass(slots=True)
class _Reader:
    """Walks the bytes once; keeps only the few values a summary needs."""

    stream: BinaryIO
    buf: bytes = b""
    base: int = 0  # absolute offset of buf[0] in the file
    crc: int = 0  # running CRC of the current FIT segment, up to buf[crc_from]
    crc_from: int = 0
    slots: list[_Slot | None] = field(default_factory=lambda: [None] * 16)
    track: TrackSampler = field(default_factory=TrackSampler)
    file_id: _Values | None = None
    sessions: list[_Values] = field(default_factory=list)
    activity: _Values | None = None

    def read_all(self) -> None:
        self.buf = self.stream.read(_CHUNK)
        if not self.buf:
            raise ActivityFileError("empty file")
        pos = 0
        while True:
            pos, data_end = self._file_header(pos)
            pos = self._messages(pos, data_end)
            pos = self._check_crc(pos, data_end)
            pos = self._need(pos, 1)
            if pos == len(self.buf):
                return
            # More bytes: a chained FIT file (e.g. the HRM-Swim data after a swim) follows.

    def _more(self, pos: int) -> bool:
        """Read the next chunk, dropping the bytes before `pos` once the CRC has seen them."""
        chunk = self.stream.read(_CHUNK)
        if not chunk:
            return False
        buf = self.buf
        if self.crc_from < pos:
            self.crc = crc16.arc(memoryview(buf)[self.crc_from : pos], initial=self.crc)
        self.buf = buf[pos:] + chunk
        self.base += pos
        self.crc_from = 0
        return True

    def _need(self, pos: int, count: int) -> int:
        """Read until `count` bytes follow `pos` (fewer only at the end of the file).

        Returns where `pos` now is in the buffer.
        """
        while len(self.buf) - pos < count and self._more(pos):
            pos = 0
        return pos

    def _file_header(self, pos: int) -> tuple[int, int]:
        """Validate a FIT file header; returns (buffer position of the data, absolute data end)."""
        start = self.base + pos
        self.crc, self.crc_from = 0, pos
        pos = self._need(pos, 12)
        head = self.buf[pos : pos + 12]
        if len(head) < 12 or head[8:12] != b".FIT" or head[0] < 12:
            if len(head) < 12 and _looks_like_header_start(head):
                raise ActivityFileError(
                    f"truncated: the file ends at byte {start + len(head)}, inside a FIT header"
                )
            if start == 0:
                raise ActivityFileError("not a FIT file")
            raise ActivityFileError(
                f"corrupt header: the bytes after the FIT data at byte {start} "
                "are not another FIT header"
            )
        size = head[0]  # 12, or 14 with a header CRC; larger sizes carry extra bytes we ignore
        pos = self._need(pos, size)
        if len(self.buf) - pos < size:
            end = self.base + len(self.buf)
            raise ActivityFileError(f"truncated: the file ends at byte {end}, inside a FIT header")
        (data_size,) = struct.unpack_from("<I", head, 4)
        if size >= 14:
            (header_crc,) = struct.unpack_from("<H", self.buf, pos + 12)
            if header_crc and header_crc != crc16.arc(head):  # 0 means "not computed"
                raise ActivityFileError(
                    f"corrupt header: header CRC mismatch in the FIT header at byte {start}"
                )
        self.slots = [None] * 16  # local message numbers start afresh in every chained file
        return pos + size, start + size + data_size

    def _check_crc(self, pos: int, data_end: int) -> int:
        """Compare the CRC stored after the data with the one computed while reading."""
        self.crc = crc16.arc(memoryview(self.buf)[self.crc_from : pos], initial=self.crc)
        self.crc_from = pos
        pos = self._need(pos, 2)
        if len(self.buf) - pos < 2:
            size = self.base + len(self.buf)
            raise ActivityFileError(
                f"truncated: the file ends at byte {size} of {data_end + 2}, before its CRC"
            )
        (stored,) = struct.unpack_from("<H", self.buf, pos)
        if stored != self.crc:
            raise ActivityFileError("file CRC mismatch: the file is corrupt")
        return pos + 2

    def _messages(self, pos: int, data_end: int) -> int:
        """Walk the messages of one FIT segment; returns the buffer position of its end.

        The hot loop of the decoder. An unwanted message costs a header lookup and an index
        step. Records arrive in runs of the same local message; a run is found with one strided
        slice of header bytes and its positions unpacked by `Struct.iter_unpack` in C.
        """
        buf, base, slots = self.buf, self.base, self.slots
        view = memoryview(buf)
        add = self.track.add
        stop = min(len(buf), data_end - base)
        while True:
            while pos < stop:
                header = buf[pos]
                if header < 0x40:  # normal header, data message
                    slot = slots[header & 0x0F]
                elif header & 0x80:  # compressed-timestamp header, local types 0-3
                    slot = slots[(header >> 5) & 3]
                else:  # definition message
                    size = _definition_size(buf, pos, stop)
                    if size is None:
                        break
                    slots[header & 0x0F] = _slot(buf[pos + 1 : pos + size])
                    pos += size
                    continue
                if slot is None:
                    local = (header >> 5) & 3 if header & 0x80 else header & 0x0F
                    raise ActivityFileError(
                        f"corrupt: local message {local} used before it was defined "
                        f"at byte {base + pos}"
                    )
                kind, size, unpack, fields = slot
                if pos + size > stop:
                    break
                if kind in (_RECORD_LAT_LON, _RECORD_LON_LAT):
                    end = pos + size
                    if end < stop and buf[end] == header:  # a run of records
                        heads = buf[pos : min(stop, pos + _RUN * size) : size]
                        run = len(heads) - len(heads.lstrip(heads[:1]))
                        end = pos + size * min(run, (stop - pos) // size)
                    for a, b in unpack(view[pos:end]):
                        if a != _INVALID_SINT32 and b != _INVALID_SINT32 and (a or b):
                            if kind == _RECORD_LAT_LON:
                                add(a * _SEMICIRCLE_DEG, b * _SEMICIRCLE_DEG)
                            else:
                                add(b * _SEMICIRCLE_DEG, a * _SEMICIRCLE_DEG)
                    pos = end
                    continue
                if kind:
                    self._wanted(kind, _values(fields, unpack(buf, pos)))
                pos += size
            if base + pos == data_end:
                return pos
            if base + len(buf) >= data_end:
                raise ActivityFileError(
                    f"corrupt: the message at byte {base + pos} runs past the end of the data "
                    f"at byte {data_end}"
                )
            if not self._more(pos):
                size = self.base + len(self.buf)
                where = "inside a message " if pos < len(self.buf) else ""
                raise ActivityFileError(
                    f"truncated: the file ends {where}at byte {size} of {data_end + 2}"
                )
            buf, base, pos = self.buf, self.base, 0
            view = memoryview(buf)
            stop = min(len(buf), data_end - base)

    def _wanted(self, kind: int, values: _Values) -> None:
        if kind == _SESSION:
            self.sessions.append(values)
        elif kind == _ACTIVITY:
            self.activity = values
        elif self.file_id is None:
            self.file_id = values
            file_type = values.get("type")
            if isinstance(file_type, int) and file_type != _ACTIVITY_FILE:
                raise ActivityFileError(
                    f"not an activity file (FIT file type: {_name('file', file_type)})"
                )


def _looks_like_header_start(head: bytes) -> bool:
    """Whether a too-short file is the beginning of a FIT header rather than something else."""
    return head[0] in (12, 14) and b".FIT".startswith(head[8:12])


def _definition_size(buf: bytes, pos: int, stop: int) -> int | None:
    """Bytes taken by the definition message at `pos`, None when it is not all before `stop`."""
    if pos + 6 > stop:
        return None
    size = 6 + 3 * buf[pos + 5]
    if buf[pos] & 0x20:  # developer field definitions follow
        if pos + size >= stop:
            return None
        size += 1 + 3 * buf[pos + size]
    return size if pos + size <= stop else None


@lru_cache(maxsize=1024)
def _slot(definition: bytes) -> _Slot:
    """Compile a definition message (without its header byte) into an extraction plan.

    Cached by content: a device writes the same definitions in every file, so a bulk import
    compiles each one once.
    """
    architecture = definition[1]
    if architecture > 1:
        raise ActivityFileError(
            f"corrupt: a definition message names an unknown architecture ({architecture})"
        )
    endian = ">" if architecture else "<"
    (global_number,) = struct.unpack_from(endian + "H", definition, 2)
    count = definition[4]
    fields = [definition[5 + 3 * i : 8 + 3 * i] for i in range(count)]
    size = 1 + sum(f[1] for f in fields)
    if len(definition) > 5 + 3 * count:  # developer field definitions follow
        start = 6 + 3 * count
        size += sum(definition[start + 3 * i + 1] for i in range(definition[start - 1]))
    kind, wanted = _WANTED.get(global_number, (_SKIP, {}))
    if kind == _SKIP:
        return (_SKIP, size, _NO_FIELDS, ())
    codes = [endian, "x"]  # skip the record header byte
    specs: list[_FieldSpec] = []
    for number, field_size, base_type in fields:
        name = wanted.get(number)
        code, base_size, invalid = _BASE_TYPES.get(base_type & 0x1F, ("", 0, None))
        if name is None or code == "" or (code is not None and field_size != base_size):
            codes.append(f"{field_size}x")  # unwanted, unknown or misaligned: skip its bytes
            continue
        if kind == _RECORD_LAT_LON:
            if code not in ("i", "I"):
                return (_SKIP, size, _NO_FIELDS, ())
            code = "i"  # semicircles are signed whatever base type the device declared
        codes.append(code or f"{field_size}s")
        specs.append((name, invalid, code is None))
    names = [name for name, _, _ in specs]
    if kind == _RECORD_LAT_LON and sorted(names) != ["lat", "lon"]:
        return (_SKIP, size, _NO_FIELDS, ())
    layout = struct.Struct("".join(codes))
    if kind == _RECORD_LAT_LON:
        # Padded to the whole message so that `iter_unpack` steps from record to record.
        layout = struct.Struct("".join(codes) + f"{size - layout.size}x")
        return (_RECORD_LON_LAT if names[0] == "lon" else kind, size, layout.iter_unpack, ())
    return (kind, size, layout.unpack_from, tuple(specs))


def _values(fields: tuple[_FieldSpec, ...], raw: tuple[Any, ...]) -> _Values:
    """Name the unpacked values; FIT's invalid sentinels and NaN floats become None."""
    values: _Values = {}
    for (name, invalid, is_text), value in zip(fields, raw, strict=True):
        if is_text:
            # Strings are NUL-padded, but some devices fill the field without a terminator.
            values[name] = value.split(b"\0", 1)[0].decode("utf-8", "replace").strip() or None
        elif value == invalid or value != value:
            values[name] = None
        else:
            values[name] = value
    return values


# ---------------------------------------------------------------------------------------------
# From the few decoded values to a summary


@cache
def _profile_enums() -> dict[str, dict[int, str]]:
    """fitdecode's value tables, imported on first use so a process that never reads FIT
    does not pay for the profile."""
    from fitdecode import profile

    return {name: ft.enum or {} for name, ft in profile.FIELD_TYPES.items()}


@cache
def _product_tables() -> dict[int, str]:
    """Manufacturer number → the value table its `product` uses (garmin_product, favero_product…),
    as the profile's sub-field references say."""
    from fitdecode import profile

    tables: dict[int, str] = {}
    for sub in profile.MESSAGE_TYPES[0].fields[2].subfields or ():
        for ref in sub.ref_fields:
            tables[ref.raw_value] = sub.type.name
    return tables


def _name(table: str, value: int) -> str:
    return _profile_enums().get(table, {}).get(value, str(value))


def _int(values: _Values, key: str) -> int | None:
    value = values.get(key)
    return value if isinstance(value, int) else None


def _number(values: _Values, key: str, scale: float = 1.0) -> float | None:
    value = values.get(key)
    return value / scale if isinstance(value, int | float) else None


def _total(items: list[float | None]) -> float | None:
    present = [x for x in items if x is not None]
    return sum(present) if present else None


_MAKERS = {"wahoo_fitness": "Wahoo", "sigmasport": "Sigma", "coros": "COROS", "development": ""}
_MODEL_WORDS = {"fr": "Forerunner", "hr": "HR"}


def _device(file_id: _Values) -> str | None:
    """A readable device name such as "Garmin Edge 530", from manufacturer and product."""
    manufacturer = _int(file_id, "manufacturer")
    maker: str | None = None
    if manufacturer is not None:
        label = _name("manufacturer", manufacturer)
        if not label.isdigit():
            maker = _MAKERS.get(label, label.replace("_", " ").title())
    model = file_id.get("product_name")
    product = _int(file_id, "product")
    if not isinstance(model, str) and product is not None and manufacturer is not None:
        table = _product_tables().get(manufacturer)
        label = _name(table, product) if table else ""
        model = _readable_model(label) if label and not label.isdigit() else None
    if not isinstance(model, str):
        return maker or None
    if not maker or model.lower().startswith(maker.lower()):
        return model
    return f"{maker} {model}"


def _readable_model(label: str) -> str:
    """Profile product names for people: "edge_1030_plus" → "Edge 1030 Plus", "fr935" →
    "Forerunner 935"."""
    words = re.sub(r"(?<=[a-z])(?=\d)", " ", label.replace("_", " ")).split()
    return " ".join(
        w.upper() if w[0].isdigit() else _MODEL_WORDS.get(w, w.capitalize()) for w in words
    )


def _position(values: _Values) -> tuple[float, float] | None:
    lat, lon = _int(values, "lat"), _int(values, "lon")
    if lat is None or lon is None or (lat == 0 and lon == 0):  # 0/0: no fix, not the Gulf of Guinea
        return None
    lat_deg, lon_deg = lat * _SEMICIRCLE_DEG, lon * _SEMICIRCLE_DEG
    if not (-90.0 <= lat_deg <= 90.0 and -180.0 <= lon_deg <= 180.0):
        return None
    return lat_deg, lon_deg


class _Clock:
    """Turns FIT date_time values into instants.

    Devices without a set clock write seconds since power-on (values < 0x10000000). When the
    activity message pairs such a time with an absolute local time, that anchor gives the local
    wall clock; the UTC instant then stays unknown unless a GPS zone fixes it (`_local_clock`).
    """

    def __init__(self, activity: _Values | None) -> None:
        self.device_offset_s: int | None = None
        self.system_to_local_s: int | None = None
        self.used_system_time = False
        stamp = _int(activity or {}, "timestamp")
        local = _int(activity or {}, "local_timestamp")
        if stamp is None or local is None or local < _SYSTEM_TIME_LIMIT:
            return
        if stamp < _SYSTEM_TIME_LIMIT:
            self.system_to_local_s = local - stamp
            return
        offset = local - stamp
        if abs(offset) <= _MAX_UTC_OFFSET_S:
            self.device_offset_s = round(offset / _QUARTER_HOUR_S) * _QUARTER_HOUR_S

    def instant(self, value: int | None) -> datetime | None:
        """An aware datetime; for power-on times it holds the local wall clock (flagged)."""
        if value is None:
            return None
        if value >= _SYSTEM_TIME_LIMIT:
            return datetime.fromtimestamp(FIT_EPOCH_S + value, UTC)
        if self.system_to_local_s is None:
            return None
        self.used_system_time = True
        return datetime.fromtimestamp(FIT_EPOCH_S + value + self.system_to_local_s, UTC)


def _session_start(values: _Values, clock: _Clock) -> datetime | None:
    start = clock.instant(_int(values, "start_time"))
    if start is None:
        end = clock.instant(_int(values, "timestamp"))
        elapsed = _number(values, "elapsed", 1000)
        if end is not None and elapsed is not None:
            start = end - timedelta(seconds=elapsed)
    return start


def _raw_type(values: _Values) -> str:
    sport, sub_sport = _int(values, "sport"), _int(values, "sub_sport")
    if sport is None:
        return "unknown"
    name = _name("sport", sport)
    return f"{name}/{_name('sub_sport', sub_sport)}" if sub_sport is not None else name


def _sport(values: _Values) -> Sport:
    sport, sub_sport = _int(values, "sport"), _int(values, "sub_sport")
    return from_fit(
        _name("sport", sport) if sport is not None else None,
        _name("sub_sport", sub_sport) if sub_sport is not None else None,
    )


def _summarise(reader: _Reader) -> ActivitySummary:
    """The summary from the sessions' own totals.

    Sessions hold what the device computed and showed (pauses, auto-pause, smoothing);
    recomputing totals from records would disagree with the numbers the user saw.
    """
    if not reader.sessions:
        raise ActivityFileError("no session in this file (the recording is incomplete)")
    file_id = reader.file_id or {}
    clock = _Clock(reader.activity)
    # A session without any time starts where the previous one ended (the first: at file creation).
    previous_end: datetime | None = None
    timed: list[tuple[datetime, _Values]] = []
    for session in reader.sessions:
        start = _session_start(session, clock) or previous_end
        if start is None:
            start = clock.instant(_int(file_id, "time_created"))
        if start is None:
            raise ActivityFileError("no start time in this file's sessions")
        timed.append((start, session))
        previous_end = start + timedelta(seconds=_number(session, "elapsed", 1000) or 0.0)
    timed.sort(key=lambda item: item[0])
    starts = [start for start, _ in timed]
    values = [session for _, session in timed]
    sports = [_sport(v) for v in values]
    multisport = len(set(sports)) > 1
    sport = Sport.MULTISPORT if multisport else sports[0]
    position = next((p for p in map(_position, values) if p is not None), reader.track.first)
    zone = None
    if position is not None and sport not in (Sport.VIRTUAL_RIDE, Sport.VIRTUAL_RUN):
        zone = timezones.zone_at(*position)  # a virtual ride's map is not where the rider is
    start_utc, shift, start_local = _local_clock(starts[0], zone, clock)
    elapsed = [_number(v, "elapsed", 1000) for v in values]
    distances = [_number(v, "distance", 100) for v in values]
    max_hrs = [hr for hr in (_number(v, "max_hr") for v in values) if hr]
    legs = (
        tuple(
            Leg(
                sport=leg_sport,
                raw_type=_raw_type(v),
                start_utc=s + shift,
                elapsed_s=e,
                distance_m=d,
            )
            for s, v, leg_sport, e, d in zip(
                starts, values, sports, elapsed, distances, strict=True
            )
        )
        if multisport
        else ()
    )
    return ActivitySummary(
        format=FileFormat.FIT,
        start_utc=start_utc,
        sport=sport,
        raw_type="multisport" if multisport else _raw_type(values[0]),
        elapsed_s=_total(elapsed),
        moving_s=_total([_number(v, "timer", 1000) for v in values]),
        distance_m=_total(distances),
        start_local=start_local,
        timezone=zone,
        device=_device(file_id),
        avg_hr=_average_hr(values, elapsed),
        max_hr=max(max_hrs) if max_hrs else None,
        ascent_m=_total([_number(v, "ascent") for v in values]),
        calories=_total([_number(v, "calories") for v in values]),
        start_lat=position[0] if position else None,
        start_lon=position[1] if position else None,
        track=reader.track.finish(),
        legs=legs,
    )


def _average_hr(values: list[_Values], elapsed: list[float | None]) -> float | None:
    """Sessions' average heart rates weighted by their elapsed time (plain mean without times).

    A heart rate of 0 is how some apps (Zwift, Onelap) say "no sensor": it is left out.
    """
    pairs = [
        (hr, e or 0.0)
        for hr, e in zip((_number(v, "avg_hr") for v in values), elapsed, strict=True)
        if hr
    ]
    if not pairs:
        return None
    weight = sum(e for _, e in pairs)
    if not weight:
        return sum(hr for hr, _ in pairs) / len(pairs)
    return sum(hr * e for hr, e in pairs) / weight


def _local_clock(
    start: datetime, zone: str | None, clock: _Clock
) -> tuple[datetime, timedelta, datetime | None]:
    """(start_utc, correction applied to every time, start_local).

    The GPS zone wins over the device's own offset: a watch keeps the home offset after a
    flight until it syncs, while the position says where the activity happened (and the zone
    rules give the right DST). The device offset (activity.local_timestamp − timestamp, rounded
    to 15 minutes) is used only when there is no usable position.

    Power-on times are local wall clock already: with a zone they are converted to true UTC;
    without one the wall clock has to stand in for UTC (the file never knew it).
    """
    if clock.used_system_time:
        device_wall = start.replace(tzinfo=None)
        offset = timezones.utc_offset(start, zone) if zone is not None else None
        if offset is not None:
            return start - offset, -offset, device_wall
        return start, timedelta(0), device_wall
    if zone is not None:
        wall = timezones.local_wall_clock(start, zone)
        if wall is not None:
            return start, timedelta(0), wall
    if clock.device_offset_s is not None:
        return (
            start,
            timedelta(0),
            (start + timedelta(seconds=clock.device_offset_s)).replace(tzinfo=None),
        )
    return start, timedelta(0), None
