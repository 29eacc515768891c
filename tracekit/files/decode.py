"""Recognise an activity file by its content (never only by its name) and decode it."""

import gzip
import zlib
from typing import BinaryIO

from tracekit.files.fit import decode_fit
from tracekit.files.gpx import decode_gpx
from tracekit.files.summary import ActivityFileError, ActivitySummary, FileFormat
from tracekit.files.tcx import decode_tcx

SNIFF_BYTES = 4096


def sniff(head: bytes) -> FileFormat | None:
    if len(head) >= 12 and head[8:12] == b".FIT":
        return FileFormat.FIT
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<gpx" in text:
            return FileFormat.GPX
        if b"<TrainingCenterDatabase" in text:
            return FileFormat.TCX
    return None


def decode(stream: BinaryIO, name_hint: str = "") -> list[ActivitySummary]:
    """Decode a seekable stream holding one FIT, GPX or TCX file.

    Raises ActivityFileError with a message naming what is wrong.
    """
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise ActivityFileError("empty file")
    found = sniff(head)
    if found is None:
        hint = name_hint.lower().removesuffix(".gz")
        if hint.endswith(".gpx"):
            found = FileFormat.GPX
        elif hint.endswith(".tcx"):
            found = FileFormat.TCX
        elif hint.endswith(".fit"):
            found = FileFormat.FIT
        else:
            raise ActivityFileError("not an activity file (neither FIT, GPX nor TCX)")
    if found is FileFormat.FIT:
        return [decode_fit(stream)]
    if found is FileFormat.GPX:
        return decode_gpx(stream)
    return decode_tcx(stream)


def is_gzip(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b"


def gunzip_errors() -> tuple[type[Exception], ...]:
    """What a damaged gzip stream raises while it is read."""
    return (gzip.BadGzipFile, EOFError, zlib.error)
