"""Recognising an account export by its content, and reading its small index files safely.

- Strava bulk export: an `activities.csv` whose header has "Activity ID" and "Activity Date",
  at the root (or inside one top folder, as some unzip-and-rezip tools leave it);
- Garmin "Export your data": a `DI_CONNECT/` tree (at the root or inside one top folder).

Both are accepted as the zip the service sends or as the folder it unpacks to. Index files
(CSV, JSON) are read under the same rules as activity files: no path outside the archive,
no link, no encrypted entry, and a size limit.
"""

import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import IO

from tracekit.files.sources import ZIP_MAGIC, Budget, member_problem
from tracekit.providers.names import ProviderName

STRAVA_INDEX = "activities.csv"
GARMIN_ROOT = "DI_CONNECT/"
INDEX_LIMIT_BYTES = 512 * 1024 * 1024  # a summaries JSON of a long history is tens of MB


class ExportKind(StrEnum):
    STRAVA = "strava"
    GARMIN = "garmin"

    @property
    def provider(self) -> ProviderName:
        return ProviderName.STRAVA if self is ExportKind.STRAVA else ProviderName.GARMIN

    @property
    def label(self) -> str:
        return "Strava bulk export" if self is ExportKind.STRAVA else "Garmin data export"


class ExportError(Exception):
    """An index file of the export cannot be read; the message says which and why."""


class ExportSource:
    """An export as a zip or a folder: names relative to its root, and bounded reads."""

    def __init__(self, path: Path, kind: ExportKind, root: str, budget: Budget) -> None:
        self.path = path
        self.kind = kind
        self.root = root
        self.budget = budget
        self._zip: zipfile.ZipFile | None = None
        if path.is_file():
            self._zip = zipfile.ZipFile(path)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "ExportSource":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def names(self) -> list[str]:
        """Every file of the export, relative to its root, with forward slashes."""
        if self._zip is not None:
            return [
                info.filename[len(self.root) :]
                for info in self._zip.infolist()
                if not info.is_dir() and info.filename.startswith(self.root)
            ]
        base = self.path / self.root
        found = []
        for folder, dirs, files in os.walk(base, followlinks=False):
            dirs.sort()
            for name in sorted(files):
                found.append((Path(folder) / name).relative_to(base).as_posix())
        return found

    def display(self, name: str) -> str:
        return f"{self.path}/{self.root}{name}" if self._zip else str(self.path / self.root / name)

    def relative(self, display: str) -> str:
        """A walker's display name → the name inside the export (nested zips included)."""
        text = display.replace("\\", "/")
        prefix = f"{self.path}/{self.root}".replace("\\", "/")
        return text[len(prefix) :] if text.startswith(prefix) else text

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """One index file, refused when hostile or larger than INDEX_LIMIT_BYTES."""
        full = self.root + name
        if self._zip is not None:
            try:
                info = self._zip.getinfo(full)
            except KeyError:
                raise ExportError(f"{self.display(name)}: missing from the export") from None
            problem = member_problem(info, self.budget)
            if problem is None and info.file_size > INDEX_LIMIT_BYTES:
                problem = f"refused: larger than {INDEX_LIMIT_BYTES // 2**20} MiB"
            if problem:
                raise ExportError(f"{self.display(name)}: {problem}")
            try:
                with self._zip.open(info) as member:
                    yield member
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ExportError(f"{self.display(name)}: damaged entry ({exc})") from None
            return
        path = self.path / full
        if path.is_symlink():
            raise ExportError(f"{path}: refused: a symbolic link")
        try:
            if path.stat().st_size > INDEX_LIMIT_BYTES:
                raise ExportError(f"{path}: refused: larger than {INDEX_LIMIT_BYTES // 2**20} MiB")
            with path.open("rb") as handle:
                yield handle
        except OSError as exc:
            raise ExportError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def detect_export(path: Path) -> tuple[ExportKind, str] | None:
    """(kind, root folder inside it) when `path` is an account export, else None."""
    if path.is_dir():
        return _detect_folder(path)
    try:
        with path.open("rb") as handle:
            if handle.read(4) != ZIP_MAGIC:
                return None
        with zipfile.ZipFile(path) as archive:
            return _detect_zip(archive)
    except (OSError, zipfile.BadZipFile):
        return None


def _top_roots(names: list[str]) -> list[str]:
    return ["", *sorted({n.split("/", 1)[0] + "/" for n in names if "/" in n})]


def _detect_zip(archive: zipfile.ZipFile) -> tuple[ExportKind, str] | None:
    names = archive.namelist()
    present = set(names)
    for root in _top_roots(names):
        index = root + STRAVA_INDEX
        if index in present:
            info = archive.getinfo(index)
            if member_problem(info, Budget()) is None:
                with archive.open(info) as member:
                    if _is_strava_header(member.read(4096)):
                        return ExportKind.STRAVA, root
    for name in names:
        parts = PurePosixPath(name).parts
        if "DI_CONNECT" in parts[:2]:
            root = "" if parts[0] == "DI_CONNECT" else parts[0] + "/"
            return ExportKind.GARMIN, root
    return None


def _detect_folder(path: Path) -> tuple[ExportKind, str] | None:
    roots = ["", *sorted(p.name + "/" for p in path.iterdir() if p.is_dir())]
    for root in roots:
        index = path / root / STRAVA_INDEX
        if index.is_file() and not index.is_symlink():
            with index.open("rb") as handle:
                if _is_strava_header(handle.read(4096)):
                    return ExportKind.STRAVA, root
        if (path / root / GARMIN_ROOT).is_dir():
            return ExportKind.GARMIN, root
    return None


def _is_strava_header(head: bytes) -> bool:
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    return "Activity ID" in first and "Activity Date" in first
