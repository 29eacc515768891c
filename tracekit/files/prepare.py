"""The per-file work of an import, run in worker processes: copy, checksum, decode.

Everything here is safe to run in a process that has no database: the worker gets the set of
checksums already in the store, so a duplicate costs one streamed copy and no decoding.
"""

import gzip
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tracekit.files.decode import decode, gunzip_errors, is_gzip
from tracekit.files.sources import (
    Budget,
    BudgetExceeded,
    Readable,
    Source,
    copy_limited,
    too_large_message,
)
from tracekit.files.summary import ActivityFileError, ActivitySummary


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decoded file waiting in the incoming folder to be stored."""

    source: Source
    checksum: str
    temp_path: str
    size: int
    summaries: tuple[ActivitySummary, ...]


@dataclass(frozen=True, slots=True)
class AlreadyKnown:
    source: Source
    checksum: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    source: Source
    error: str


Outcome = Prepared | AlreadyKnown | Unreadable

_known_checksums: frozenset[str] = frozenset()


def init_worker(known_checksums: frozenset[str]) -> None:
    global _known_checksums
    _known_checksums = known_checksums


def prepare_in_worker(source: Source, incoming: str, budget: Budget) -> Outcome:
    return prepare(source, Path(incoming), budget, _known_checksums)


@contextmanager
def open_source(source: Source) -> Iterator[Readable]:
    """The source's bytes, gunzipped when they are gzip data (whatever the name says)."""
    with _open_raw(source) as raw:
        head = raw.read(2)
        raw.seek(0)
        if is_gzip(head):
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield unzipped
        else:
            yield raw


@contextmanager
def _open_raw(source: Source) -> Iterator[IO[bytes]]:
    if source.member is None:
        with Path(source.path).open("rb") as handle:
            yield handle
    else:
        with zipfile.ZipFile(source.path) as archive, archive.open(source.member) as member:
            yield member


def prepare(source: Source, incoming: Path, budget: Budget, known: frozenset[str]) -> Outcome:
    """Copy the source into `incoming` while hashing it, then decode the copy."""
    fd, temp_name = tempfile.mkstemp(prefix="in-", dir=incoming)
    temp = Path(temp_name)
    keep = False
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, open_source(source) as stream:
            size = copy_limited(_Hashing(stream, digest), out, budget.max_file_bytes)
        checksum = digest.hexdigest()
        if checksum in known:
            return AlreadyKnown(source, checksum)
        with temp.open("rb") as copy:
            summaries = decode(copy, source.member or source.path)
        keep = True
        return Prepared(source, checksum, temp_name, size, tuple(summaries))
    except ActivityFileError as exc:
        return Unreadable(source, str(exc))
    except BudgetExceeded:
        return Unreadable(source, too_large_message(budget.max_file_bytes))
    except gunzip_errors() as exc:
        return Unreadable(source, f"damaged compressed data ({exc})")
    except zipfile.BadZipFile as exc:
        return Unreadable(source, f"damaged archive entry ({exc})")
    except OSError as exc:
        return Unreadable(source, f"cannot read the file ({exc.strerror or exc})")
    except Exception as exc:  # a decoder bug must not stop the rest of the batch
        return Unreadable(source, f"unexpected error while reading ({type(exc).__name__}: {exc})")
    finally:
        if not keep:
            temp.unlink(missing_ok=True)


class _Hashing:
    """A read-through wrapper that feeds every byte read into a hash."""

    def __init__(self, stream: Readable, digest: "hashlib._Hash") -> None:
        self._stream = stream
        self._digest = digest

    def read(self, size: int = -1, /) -> bytes:
        block = self._stream.read(size)
        self._digest.update(block)
        return block
