"""Writing approved changes back into the user's training log, without ever losing it.

Order of a write:
1. refuse if another program has the file open (Excel's `~$name`, LibreOffice's
   `.~lock.name#`, a POSIX lock, or — on Windows — a sharing violation), or if the file changed
   since Tracekit read it;
2. copy the file into `Tracekit backups/` beside it (timestamped; the newest 30 are kept);
3. write the new version to a temporary file in the same folder and fsync it;
4. for a workbook, check the new file still has every sheet, chart, image, shape, table, pivot
   table, comment and macro the old one had (openpyxl drops some of these); refuse otherwise;
5. `os.replace` it over the original (atomic on one volume), then fsync the folder.
Any failure before step 5 leaves the original untouched and removes the temporary file.
"""

import contextlib
import copy
import csv
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Fill, Font, Protection
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from tracekit.spreadsheet.table import FileStamp, SheetError, SheetKind, SheetTable
from tracekit.spreadsheet.values import CellValue

BACKUP_FOLDER = "Tracekit backups"
KEEP_BACKUPS = 30
TEMP_PREFIX = ".~tracekit-"


class SheetLocked(SheetError):
    """Another program has the file open; nothing was changed."""


class SheetChanged(SheetError):
    """The file changed after Tracekit read it; nothing was changed."""


class SheetWriteRefused(SheetError):
    """Writing would lose part of the workbook; nothing was changed."""


type NewCell = tuple[CellValue, str | None]  # value, Excel number format (None: keep/General)


@dataclass
class SheetEdit:
    """Cells to set (row number, column index → value), rows to append, a column to add."""

    cells: dict[tuple[int, int], NewCell] = field(default_factory=dict)
    appended: list[dict[int, NewCell]] = field(default_factory=list)
    new_column: str | None = None  # a header to add after the last one…
    new_column_values: dict[int, str] = field(default_factory=dict)  # …and its values by row

    def set(
        self, row: int, column: int, value: CellValue, number_format: str | None = None
    ) -> None:
        self.cells[(row, column)] = (value, number_format)


@dataclass(frozen=True, slots=True)
class WriteResult:
    backup: Path
    appended_rows: tuple[int, ...]  # row numbers the appended rows got
    new_column: int | None  # index of the added column


def write_sheet(table: SheetTable, edit: SheetEdit, now: datetime | None = None) -> WriteResult:
    path = table.path
    now = now or datetime.now(UTC)
    ensure_not_locked(path)
    _ensure_unchanged(table)
    backup = _backup(path, now)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if table.kind is SheetKind.XLSX:
                appended, column = _write_workbook(table, edit, handle)
            else:
                appended, column = _write_csv(table, edit, handle)
            handle.flush()
            os.fsync(handle.fileno())
        if table.kind is SheetKind.XLSX:
            _ensure_nothing_lost(path, temp)
        with contextlib.suppress(OSError):
            temp.chmod(stat.S_IMODE(path.stat().st_mode))
        _ensure_unchanged(table)
        try:
            temp.replace(path)
        except PermissionError:
            raise SheetLocked(_open_elsewhere(path, None)) from None
        _fsync_folder(path.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _prune_backups(path)
    return WriteResult(backup, appended, column)


# ----------------------------------------------------------------------------- safety checks


def lock_files(path: Path) -> list[tuple[Path, str]]:
    """Owner/lock files office programs leave beside a document they have open."""
    name = path.name
    candidates = [
        (path.with_name(f"~${name}"), "Excel"),
        (path.with_name(f"~${name[2:]}"), "Excel"),
        (path.with_name(f".~lock.{name}#"), "LibreOffice"),
    ]
    return [(p, program) for p, program in candidates if p.exists()]


def ensure_not_locked(path: Path) -> None:
    for lock, program in lock_files(path):
        raise SheetLocked(_open_elsewhere(path, program, lock))
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file (was it moved or renamed?)") from None
    except PermissionError:
        raise SheetLocked(_open_elsewhere(path, None)) from None
    with handle:
        _ensure_no_posix_lock(path, handle)


def _ensure_no_posix_lock(path: Path, handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SheetLocked(_open_elsewhere(path, None)) from None
    fcntl.lockf(handle.fileno(), fcntl.LOCK_UN)


def _open_elsewhere(path: Path, program: str | None, lock: Path | None = None) -> str:
    who = program or "another program"
    message = (
        f"{path.name} is open in {who} (or read-only), so Tracekit cannot write to it; "
        "close it there and apply the change again. Nothing was changed."
    )
    if lock is not None:
        message += f" (If it is not open anywhere, delete the leftover lock file {lock.name}.)"
    return message


def _ensure_unchanged(table: SheetTable) -> None:
    try:
        current = FileStamp.of(table.path)
    except FileNotFoundError:
        raise SheetError(f"{table.path}: no such file (was it moved or renamed?)") from None
    if current != table.stamp:
        raise SheetChanged(
            f"{table.path.name} changed while Tracekit was preparing the change; "
            "nothing was changed — apply it again"
        )


_PARTS = (
    (re.compile(r"^xl/worksheets/sheet[^/]*\.xml$"), "sheets"),
    (re.compile(r"^xl/chartsheets/[^/]*\.xml$"), "chart sheets"),
    (re.compile(r"^xl/charts/chart[^/]*\.xml$"), "charts"),
    (re.compile(r"^xl/media/"), "images"),
    (re.compile(r"^xl/pivotTables/[^/]*\.xml$"), "pivot tables"),
    (re.compile(r"^xl/tables/[^/]*\.xml$"), "tables"),
    (re.compile(r"^xl/comments[^/]*\.xml$"), "comments"),
    (re.compile(r"^xl/vbaProject\.bin$"), "macros"),
    (re.compile(r"^xl/externalLinks/[^/]*\.xml$"), "links to other workbooks"),
    (re.compile(r"^xl/slicers/"), "slicers"),
    (re.compile(r"^xl/ctrlProps/"), "form controls"),
)
_SHAPE = re.compile(rb"<(?:xdr:)?sp[ >]")


def inventory(path: Path) -> Counter[str]:
    """What a workbook holds, by kind, as far as a write could lose it."""
    found: Counter[str] = Counter()
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            for pattern, kind in _PARTS:
                if pattern.match(name):
                    found[kind] += 1
            if name.startswith("xl/drawings/") and name.endswith(".xml"):
                found["shapes"] += len(_SHAPE.findall(archive.read(name)))
    return found


def _ensure_nothing_lost(original: Path, written: Path) -> None:
    before, after = inventory(original), inventory(written)
    lost = [kind for kind, count in before.items() if after[kind] < count]
    if lost:
        raise SheetWriteRefused(
            f"{original.name}: writing to it would lose its {', '.join(sorted(lost))} "
            "(Tracekit's spreadsheet library cannot keep them), so nothing was changed. "
            "Keep the training log in a workbook without them to let Tracekit write to it."
        )


# ---------------------------------------------------------------------------------- backups


def backup_folder(path: Path) -> Path:
    return path.parent / BACKUP_FOLDER


def _backup(path: Path, now: datetime) -> Path:
    folder = backup_folder(path)
    folder.mkdir(exist_ok=True)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{path.stem} {stamp}{path.suffix}"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem} {stamp}-{counter}{path.suffix}"
    shutil.copy2(path, target)
    return target


def backups_of(path: Path) -> list[Path]:
    folder = backup_folder(path)
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(path.stem) + r" \d{8}T\d{6}Z(?:-\d+)?" + re.escape(path.suffix))
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def _prune_backups(path: Path) -> None:
    for old in backups_of(path)[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------- workbooks


def _write_workbook(
    table: SheetTable, edit: SheetEdit, handle: IO[bytes]
) -> tuple[tuple[int, ...], int | None]:
    keep_vba = table.path.suffix.lower() == ".xlsm"
    workbook = load_workbook(table.path, keep_vba=keep_vba, keep_links=True, rich_text=True)
    try:
        sheet = workbook[table.sheet] if table.sheet else workbook.active
        if not isinstance(sheet, Worksheet):
            raise SheetError(f"{table.path.name}: the sheet {table.sheet!r} is not a worksheet")
        for (row, column), (value, number_format) in edit.cells.items():
            _put(sheet, row, column, value, number_format)
        column_index = _add_column(sheet, table, edit) if edit.new_column else None
        appended = _append_rows(sheet, table, edit.appended)
        workbook.save(handle)
    finally:
        workbook.close()
    return appended, column_index


def _put(
    sheet: Worksheet, row: int, column: int, value: CellValue, number_format: str | None
) -> None:
    cell = sheet.cell(row=row, column=column + 1)
    if not isinstance(cell, Cell):
        raise SheetError(
            f"cell {get_column_letter(column + 1)}{row} is part of merged cells; "
            "unmerge it to let Tracekit write there"
        )
    cell.value = value
    if number_format:
        cell.number_format = number_format


def _copy_style(sheet: Worksheet, source: tuple[int, int], target: tuple[int, int]) -> None:
    """Make a cell look like another: font, fill, border, alignment, number format."""
    old = sheet.cell(row=source[0], column=source[1])
    new = sheet.cell(row=target[0], column=target[1])
    if not isinstance(old, Cell) or not isinstance(new, Cell) or not old.has_style:
        return
    # A style proxy copies to the style itself (openpyxl's stubs type it as the proxy).
    new.font = cast(Font, copy.copy(old.font))
    new.fill = cast(Fill, copy.copy(old.fill))
    new.border = cast(Border, copy.copy(old.border))
    new.alignment = cast(Alignment, copy.copy(old.alignment))
    new.protection = cast(Protection, copy.copy(old.protection))
    new.number_format = old.number_format


def _add_column(sheet: Worksheet, table: SheetTable, edit: SheetEdit) -> int:
    index = len(table.headers)
    while index > 0 and not table.headers[index - 1]:
        index -= 1
    _put(sheet, table.header_row, index, edit.new_column, None)
    if index > 0:
        _copy_style(sheet, (table.header_row, index), (table.header_row, index + 1))
        width = sheet.column_dimensions[get_column_letter(index)].width
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(width or 0, 14)
    for row, value in edit.new_column_values.items():
        _put(sheet, row, index, value, None)
    _grow_tables(sheet, table.header_row, last_row=None, last_column=index + 1)
    return index


def _append_rows(
    sheet: Worksheet, table: SheetTable, rows: list[dict[int, NewCell]]
) -> tuple[int, ...]:
    if not rows:
        return ()
    last = max((r.number for r in table.rows), default=table.header_row)
    width = max(len(table.headers), max((max(r, default=0) + 1 for r in rows), default=0))
    numbers = []
    target = last
    for values in rows:
        target += 1
        while any(
            sheet.cell(row=target, column=c + 1).value not in (None, "") for c in range(width)
        ):
            target += 1
        for column in range(width):
            if last > table.header_row:  # look like the rows above
                _copy_style(sheet, (last, column + 1), (target, column + 1))
            if column in values:
                _put(sheet, target, column, *values[column])
        numbers.append(target)
    _grow_tables(sheet, table.header_row, last_row=max(numbers), last_column=None, after=last)
    return tuple(numbers)


def _grow_tables(
    sheet: Worksheet,
    header_row: int,
    last_row: int | None,
    last_column: int | None,
    after: int | None = None,
) -> None:
    """Stretch an Excel table that holds the log so new rows/columns are part of it."""
    for table in sheet.tables.values():
        ref = table.ref
        if not isinstance(ref, str):
            continue
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row != header_row or min_col is None or max_col is None or max_row is None:
            continue
        if last_row is not None and max_row == after:
            max_row = last_row
        if last_column is not None and max_col == last_column - 1:
            max_col = last_column
        new_ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
        if new_ref != ref:
            table.ref = new_ref
            if table.autoFilter is not None:
                table.autoFilter.ref = new_ref
            if last_column is not None and max_col == last_column:
                _add_table_column(table, sheet, header_row, last_column)


def _add_table_column(table: object, sheet: Worksheet, header_row: int, column: int) -> None:
    from openpyxl.worksheet.table import Table, TableColumn

    if not isinstance(table, Table) or table.tableColumns is None:
        return
    name = str(sheet.cell(row=header_row, column=column).value or f"Column{column}")
    ids = [c.id for c in table.tableColumns if c.id is not None]
    table.tableColumns.append(TableColumn(id=max(ids, default=0) + 1, name=name))


# ------------------------------------------------------------------------------------- CSV


def _write_csv(
    table: SheetTable, edit: SheetEdit, handle: IO[bytes]
) -> tuple[tuple[int, ...], int | None]:
    fmt = table.csv_format
    assert fmt is not None
    text = table.path.read_bytes().decode(fmt.encoding, errors="replace")
    grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter))
    for (row, column), (value, _) in edit.cells.items():
        _grid_set(grid, row, column, value)
    column_index: int | None = None
    if edit.new_column:
        column_index = len(table.headers)
        while column_index > 0 and not table.headers[column_index - 1]:
            column_index -= 1
        _grid_set(grid, table.header_row, column_index, edit.new_column)
        for row, value in edit.new_column_values.items():
            _grid_set(grid, row, column_index, value)
    while grid and not any(v.strip() for v in grid[-1]):
        grid.pop()
    numbers = []
    width = max((len(r) for r in grid[table.header_row - 1 : table.header_row]), default=0)
    for values in edit.appended:
        cells = [""] * max(width, max(values, default=-1) + 1)
        for column, (value, _) in values.items():
            cells[column] = _text(value)
        grid.append(cells)
        numbers.append(len(grid))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=fmt.delimiter, lineterminator=fmt.line_terminator)
    writer.writerows(grid)
    handle.write(out.getvalue().encode(fmt.encoding, errors="replace"))
    return tuple(numbers), column_index


def _grid_set(grid: list[list[str]], row: int, column: int, value: CellValue) -> None:
    while len(grid) < row:
        grid.append([])
    cells = grid[row - 1]
    while len(cells) <= column:
        cells.append("")
    cells[column] = _text(value)


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
