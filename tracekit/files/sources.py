"""Turning what the user dropped (files, folders, zips, zips in zips) into importable sources.

Archives are hostile until proven otherwise: member names never become paths on disk, member
sizes are budgeted (declared and actual), nesting is bounded, and one bad member is reported on
its own line without stopping the rest of the batch.
"""

import itertools
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

ACTIVITY_SUFFIXES = (".fit", ".gpx", ".tcx")
ARCHIVE_SUFFIXES = (".zip",)
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits that keep a zip bomb or a runaway archive from filling the disk or memory."""

    max_file_bytes: int = 256 * 1024 * 1024  # far above any real activity file
    max_archive_bytes: int = 32 * 1024 * 1024 * 1024  # sum of one archive's members
    max_depth: int = 4  # archive inside archive inside …
    max_members: int = 500_000


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True, slots=True)
class Source:
    """One candidate activity file. Picklable, so workers in other processes can open it.

    `path` is a real file on disk: the file itself, or the zip holding `member`.
    """

    display: str
    path: str
    member: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """Something that cannot be imported, found while walking (before any decoding)."""

    display: str
    error: str


class BudgetExceeded(Exception):
    pass


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(suffixes)


def is_candidate_name(name: str) -> bool:
    return _has_suffix(name, ACTIVITY_SUFFIXES + ARCHIVE_SUFFIXES)


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return False


class SourceWalker:
    """Expands paths into sources; nested archives are unpacked into a scratch folder it owns.

    Use as a context manager: the scratch folder, and whatever else the import parked there,
    is removed on exit, however the import ended.
    """

    def __init__(self, scratch_parent: Path, budget: Budget = DEFAULT_BUDGET) -> None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
        self.scratch = Path(tempfile.mkdtemp(prefix="run-", dir=scratch_parent))
        self._names = itertools.count()
        self.budget = budget

    def __enter__(self) -> "SourceWalker":
        return self

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def walk(self, paths: list[Path]) -> Iterator[Source | Rejected]:
        for path in paths:
            display = str(path)
            if path.is_dir():
                yield from self._walk_dir(path)
            elif not path.exists():
                yield Rejected(display, "no such file or folder")
            elif _starts_with(path, ZIP_MAGIC):
                yield from self._walk_zip(path, display, depth=1)
            else:
                # Named explicitly: always attempted, so an unknown format gets a clear reason.
                yield Source(display, str(path))

    def _walk_dir(self, folder: Path) -> Iterator[Source | Rejected]:
        entries: list[Path] = []
        for root, dirs, files in os.walk(folder, onerror=None, followlinks=False):
            dirs.sort()
            entries.extend(Path(root) / name for name in sorted(files) if is_candidate_name(name))
        for path in entries:
            if _starts_with(path, ZIP_MAGIC):
                yield from self._walk_zip(path, str(path), depth=1)
            else:
                yield Source(str(path), str(path))

    def _walk_zip(self, path: Path, display: str, depth: int) -> Iterator[Source | Rejected]:
        if depth > self.budget.max_depth:
            yield Rejected(display, f"archives nested more than {self.budget.max_depth} deep")
            return
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            yield Rejected(display, f"not a readable zip archive ({exc})")
            return
        with archive:
            infos = archive.infolist()
            if len(infos) > self.budget.max_members:
                yield Rejected(display, f"too many entries ({len(infos)}) for an activity archive")
                return
            declared = sum(info.file_size for info in infos)
            if declared > self.budget.max_archive_bytes:
                yield Rejected(
                    display,
                    f"refused: unpacks to {declared / 2**30:.1f} GiB "
                    f"(limit {self.budget.max_archive_bytes / 2**30:.0f} GiB; possible zip bomb)",
                )
                return
            for info in infos:
                if info.is_dir() or not is_candidate_name(info.filename):
                    continue
                member_display = f"{display}/{info.filename}"
                problem = member_problem(info, self.budget)
                if problem:
                    yield Rejected(member_display, problem)
                elif _has_suffix(info.filename, ARCHIVE_SUFFIXES):
                    yield from self._walk_nested(archive, info, member_display, depth)
                else:
                    yield Source(member_display, str(path), info.filename)

    def _walk_nested(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str, depth: int
    ) -> Iterator[Source | Rejected]:
        target = self.scratch / f"{next(self._names)}.zip"
        try:
            with archive.open(info) as member, target.open("wb") as out:
                copy_limited(member, out, self.budget.max_file_bytes)
        except BudgetExceeded:
            yield Rejected(display, too_large_message(self.budget.max_file_bytes))
            return
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            yield Rejected(display, f"damaged archive entry ({exc})")
            return
        yield from self._walk_zip(target, display, depth + 1)


def member_problem(info: zipfile.ZipInfo, budget: Budget) -> str | None:
    """Why a zip entry must not be read, or None when it is safe to try."""
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
        return f"refused: the entry's path {name!r} points outside the archive"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "refused: the entry is a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted entry (Tracekit cannot read password-protected archives)"
    if info.file_size > budget.max_file_bytes:
        return too_large_message(budget.max_file_bytes)
    return None


def too_large_message(limit: int) -> str:
    return f"refused: larger than {limit // 2**20} MiB unpacked (possible zip bomb)"


def copy_limited(
    source: "IO[bytes] | Readable", target: IO[bytes], limit: int, chunk: int = 1 << 20
) -> int:
    """Copy at most `limit` bytes; raise BudgetExceeded rather than write more."""
    total = 0
    while block := source.read(chunk):
        total += len(block)
        if total > limit:
            raise BudgetExceeded
        target.write(block)
    return total
