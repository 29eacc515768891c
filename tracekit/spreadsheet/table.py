"""Reading a training log (.xlsx or .csv) into one plain table: headers and rows of cells.

An .xlsx is read with openpyxl (values as the cells hold them, with their number formats, so a
time cell is a time and a date cell a date); a .csv as text, remembering its encoding,
delimiter, line endings and decimal separator so a write-back keeps them.
"""

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText
from openpyxl.utils.exceptions import InvalidFileException

from tracekit.spreadsheet.mapping import SheetField, detect_mapping, normalise
from tracekit.spreadsheet.values import CellValue, is_blank

HEADER_SEARCH_ROWS = 10  # a title or a blank line may sit above the header row
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class SheetError(Exception):
    """The training log cannot be read or written; the message says why and what to do."""


class SheetKind(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class CsvFormat:
    encoding: str
    delimiter: str
    line_terminator: str
    decimal_comma: bool


@dataclass(frozen=True, slots=True)
class Cell:
    value: CellValue
    number_format: str | None = None


_EMPTY = Cell(None)


@dataclass(frozen=True, slots=True)
class SheetRow:
    number: int  # the row number the user sees (1-based, header row included)
    cells: tuple[Cell, ...]

    def cell(self, index: int | None) -> Cell:
        if index is None or index >= len(self.cells):
            return _EMPTY
        return self.cells[index]


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What the file looked like when read: a write refuses if it changed since."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> "FileStamp":
        info = path.stat()
        return cls(info.st_mtime_ns, info.st_size)


@dataclass(frozen=True, slots=True)
class SheetTable:
    path: Path
    kind: SheetKind
    sheet: str | None  # the worksheet's title (xlsx)
    sheet_names: tuple[str, ...]
    header_row: int
    headers: tuple[str, ...]
    rows: tuple[SheetRow, ...]
    csv_format: CsvFormat | None
    stamp: FileStamp

    def column(self, header: str | None) -> int | None:
        """The index of a header: the exact text first, then the same words in any case."""
        if header is None:
            return None
        if header in self.headers:
            return self.headers.index(header)
        wanted = normalise(header)
        for index, found in enumerate(self.headers):
            if normalise(found) == wanted:
                return index
        return None

    def values(self, header: str | None) -> list[Cell]:
        index = self.column(header)
        return [row.cell(index) for row in self.rows] if index is not None else []


def kind_of(path: Path) -> SheetKind:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return SheetKind.XLSX
    if suffix in CSV_SUFFIXES:
        return SheetKind.CSV
    if suffix in (".xls", ".ods", ".numbers"):
        raise SheetError(
            f"{path.name}: Tracekit reads .xlsx and .csv training logs; "
            "save this one as .xlsx (File → Save As) and connect that"
        )
    raise SheetError(f"{path.name}: not a spreadsheet Tracekit reads (.xlsx or .csv)")


def read_table(path: Path, sheet: str | None = None, header_row: int | None = None) -> SheetTable:
    kind = kind_of(path)
    try:
        stamp = FileStamp.of(path)
        if kind is SheetKind.XLSX:
            title, names, grid = _read_xlsx(path, sheet)
            csv_format = None
        else:
            csv_format, grid = _read_csv(path)
            title, names = None, ()
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file (was it moved or renamed?)") from None
    except PermissionError:
        raise SheetError(f"{path}: Tracekit may not read this file (permission denied)") from None
    except IsADirectoryError:
        raise SheetError(f"{path} is a folder, not a spreadsheet") from None
    if header_row is None:
        header_row = _find_header_row(grid)
    if header_row < 1 or header_row > max(len(grid), 1):
        raise SheetError(f"{path.name}: there is no row {header_row} to take the headers from")
    headers = tuple(_header_text(c.value) for c in (grid[header_row - 1] if grid else ()))
    rows = tuple(
        SheetRow(number, tuple(cells))
        for number, cells in enumerate(grid[header_row:], start=header_row + 1)
        if any(not is_blank(c.value) for c in cells)
    )
    return SheetTable(path, kind, title, names, header_row, headers, rows, csv_format, stamp)


def _header_text(value: CellValue) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _find_header_row(grid: Sequence[Sequence[Cell]]) -> int:
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        headers = [_header_text(c.value) for c in cells]
        if SheetField.DATE in detect_mapping(headers).columns:
            return index + 1
    return 1


def _read_xlsx(path: Path, sheet: str | None) -> tuple[str, tuple[str, ...], list[list[Cell]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise SheetError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        names = tuple(workbook.sheetnames)
        if sheet is not None and sheet not in names:
            raise SheetError(
                f"{path.name} has no sheet {sheet!r} (it has: {', '.join(names) or 'none'})"
            )
        active = workbook.active
        title = sheet if sheet is not None else (active.title if active else names[0])
        if title in {chart.title for chart in workbook.chartsheets}:
            raise SheetError(f"{path.name}: the sheet {title!r} is a chart, not a table")
        worksheet = workbook[title]
        reset = getattr(worksheet, "reset_dimensions", None)
        if reset is not None:  # a sheet's stored size may be wrong; read what is there
            reset()
        grid = [
            [Cell(_plain(c.value), getattr(c, "number_format", None)) for c in row]
            for row in worksheet.iter_rows()
        ]
        return str(worksheet.title), names, _trim(grid)
    finally:
        workbook.close()


def _plain(value: object) -> CellValue:
    """A cell value as Tracekit reads it: rich text as text, decimals as floats, a formula
    nobody computed yet as empty."""
    if value is None or isinstance(
        value, str | bool | int | float | datetime | date | time | timedelta
    ):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, CellRichText):
        return str(value)
    return None


def _trim(grid: list[list[Cell]]) -> list[list[Cell]]:
    while grid and all(is_blank(c.value) for c in grid[-1]):
        grid.pop()
    return grid


def _read_csv(path: Path) -> tuple[CsvFormat, list[list[Cell]]]:
    data = path.read_bytes()
    encoding, text = _decode(data)
    line_terminator = "\r\n" if "\r\n" in text[:65536] else "\n"
    delimiter = _delimiter(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    grid = [[Cell(value if value.strip() else None) for value in row] for row in rows]
    decimal_comma = delimiter != "," and _uses_decimal_comma(rows)
    return CsvFormat(encoding, delimiter, line_terminator, decimal_comma), _trim(grid)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data.decode("utf-8-sig")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252", data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        first = text.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


_DECIMAL_COMMA = re.compile(r"^\s*\d+,\d+\s*$")


def _uses_decimal_comma(rows: list[list[str]]) -> bool:
    return any(_DECIMAL_COMMA.match(value) for row in rows[1:200] for value in row)
