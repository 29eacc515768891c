"""Connecting a training log: what Tracekit would read from it, shown before anything is saved.

The CLI (`tracekit sheet connect|show`) and the window's connect dialog present the same preview,
so a sheet reads the same whichever way it was connected. A preview is computed from a table read
once: changing a column or answering a question re-previews the table without re-reading the
file. Units are never guessed: a unit no header states is an open question until the user
answers it, and a sheet with open questions is not `ready` to connect.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from tracekit.providers.connections import record_connection
from tracekit.providers.names import ProviderName
from tracekit.providers.spreadsheet import SpreadsheetProvider
from tracekit.sports import Sport
from tracekit.spreadsheet.config import (
    Question,
    SheetConfig,
    check_columns,
    open_questions,
    save_sheet_config,
    unit_conflicts,
    unmapped_headers,
)
from tracekit.spreadsheet.mapping import (
    ROW_ID_HEADER,
    DateOrder,
    DistanceUnit,
    DurationUnit,
    SheetField,
    SheetMapping,
    detect_mapping,
    stated_units,
)
from tracekit.spreadsheet.rows import ParsedRow, parse_sheet
from tracekit.spreadsheet.store import adopt_row_ids
from tracekit.spreadsheet.table import SheetError, SheetTable, read_table
from tracekit.spreadsheet.values import CellError, detect_date_order
from tracekit.store.engine import Database
from tracekit.units import UnitSystem, format_distance, format_duration

PREVIEW_ROWS = 5
SHOWN_PROBLEMS = 10
PREVIEW_COLUMNS = ("Row", "Start", "Sport", "Distance", "Duration", "Name")
NO_HOME_ZONE = "No home time zone is set: rows with a time keep their wall clock but no instant."

# The question each unit-bearing column raises: a column moved elsewhere drops its answer.
_QUESTION_OF_FIELD = {
    SheetField.DISTANCE: Question.DISTANCE_UNIT,
    SheetField.DURATION: Question.DURATION_UNIT,
    SheetField.DATE: Question.DATE_ORDER,
}


@dataclass(frozen=True, slots=True)
class SheetChoices:
    """What the user said about a sheet, on top of what Tracekit detects from it.

    Columns are kept in the order given because a header holds one field: giving it to a second
    field takes it from the first, so the last word must win.
    """

    columns: tuple[tuple[SheetField, str | None], ...] = ()  # None: the field is not read
    distance_unit: DistanceUnit | None = None
    duration_unit: DurationUnit | None = None
    date_order: DateOrder | None = None

    def with_column(self, which: SheetField, header: str | None) -> "SheetChoices":
        """Read `which` from `header`; an answer about the field's old column no longer holds
        (the new column's header may state its unit, or it may need asking again)."""
        kept = tuple((f, h) for f, h in self.columns if f is not which)
        moved = replace(self, columns=(*kept, (which, header)))
        question = _QUESTION_OF_FIELD.get(which)
        return moved.with_answer(question, None) if question is not None else moved

    def with_answer(self, question: Question, answer: str | None) -> "SheetChoices":
        """Answer (or, with None, un-answer) one of `Question`'s questions with one of its
        `choices`; a value that is not one raises ValueError."""
        if question is Question.DISTANCE_UNIT:
            return replace(self, distance_unit=DistanceUnit(answer) if answer else None)
        if question is Question.DURATION_UNIT:
            return replace(self, duration_unit=DurationUnit(answer) if answer else None)
        return replace(self, date_order=DateOrder(answer) if answer else None)

    def answer(self, question: Question) -> str | None:
        value = {
            Question.DISTANCE_UNIT: self.distance_unit,
            Question.DURATION_UNIT: self.duration_unit,
            Question.DATE_ORDER: self.date_order,
        }[question]
        return value.value if value is not None else None

    def without_answers(self) -> "SheetChoices":
        return SheetChoices(self.columns)


def mapping_for(table: SheetTable, choices: SheetChoices) -> SheetMapping:
    """The detected columns with the user's on top; units are the user's answers, else what the
    chosen headers state, so a column moved to "Distance (mi)" is in miles and one moved away
    from "Distance (km)" is no longer in km. Without choices this is `detect_for`."""
    mapping = detect_mapping(table.headers)
    for which, header in choices.columns:
        mapping = mapping.with_column(which, header)
    stated_distance, _ = stated_units(mapping.header(SheetField.DISTANCE) or "")
    _, stated_duration = stated_units(mapping.header(SheetField.DURATION) or "")
    dates = table.values(mapping.header(SheetField.DATE))
    proven_order, _ = detect_date_order(c.value for c in dates)
    return SheetMapping(
        mapping.columns,
        choices.distance_unit or stated_distance,
        choices.duration_unit or stated_duration,
        choices.date_order or proven_order,
    )


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One row as Tracekit reads it (SI values; formatted only by `texts`)."""

    row: int
    start_local: datetime | None
    date_only: bool
    timezone: str | None
    sport: Sport
    distance_m: float | None
    elapsed_s: float | None
    name: str | None

    @classmethod
    def of(cls, parsed: ParsedRow) -> "PreviewRow":
        a = parsed.activity
        return cls(
            parsed.row,
            a.start_local,
            a.date_only,
            a.timezone,
            a.sport,
            a.distance_m,
            a.elapsed_s,
            a.name,
        )

    @property
    def start(self) -> str:
        if self.start_local is None:
            return "?"
        if self.date_only:
            return f"{self.start_local:%Y-%m-%d}"
        return f"{self.start_local:%Y-%m-%d %H:%M}" + (f" {self.timezone}" if self.timezone else "")

    def texts(self, units: UnitSystem = UnitSystem.METRIC) -> tuple[str, ...]:
        """The row's cells under `PREVIEW_COLUMNS`."""
        return (
            str(self.row),
            self.start,
            self.sport.value,
            format_distance(self.distance_m, units),
            format_duration(self.elapsed_s),
            self.name or "",
        )


def mapped_fields(mapping: SheetMapping) -> tuple[tuple[SheetField, str], ...]:
    """(field, header) for each field the mapping reads, in the fields' own order."""
    return tuple(
        (which, header) for which in SheetField if (header := mapping.header(which)) is not None
    )


def describe_units(mapping: SheetMapping) -> str | None:
    units = [
        f"distance in {mapping.distance_unit.value}" if mapping.distance_unit else None,
        f"bare durations in {mapping.duration_unit.value}" if mapping.duration_unit else None,
        f"dates {mapping.date_order.value}" if mapping.date_order else None,
    ]
    return ", ".join(u for u in units if u) or None


@dataclass(frozen=True, slots=True)
class SheetPreview:
    """A sheet with a mapping, read as Tracekit would read it once connected."""

    table: SheetTable
    config: SheetConfig
    choices: SheetChoices
    ignored: tuple[str, ...]  # headers no field reads
    rows: tuple[PreviewRow, ...]  # the first PREVIEW_ROWS
    total_rows: int
    problems: tuple[str, ...]
    questions: tuple[Question, ...]  # what the sheet cannot tell, answered or not
    unanswered: tuple[Question, ...]
    conflicts: tuple[str, ...]  # answers that contradict a header
    column_error: str | None  # the mapping lacks a date column or names a missing one
    read_error: str | None  # the rows cannot be read at all with this mapping
    warning: str | None  # e.g. no home time zone for rows with a time

    @property
    def headers(self) -> tuple[str, ...]:
        """The headers a field can be read from."""
        return tuple(h for h in self.table.headers if h)

    @property
    def sheet_names(self) -> tuple[str, ...]:
        return self.table.sheet_names

    @property
    def fields(self) -> tuple[tuple[SheetField, str], ...]:
        return mapped_fields(self.config.mapping)

    @property
    def units(self) -> str | None:
        return describe_units(self.config.mapping)

    def column_of(self, which: SheetField) -> str | None:
        """The sheet's own header that `which` is read from; None when the sheet lacks it."""
        index = self.table.column(self.config.mapping.header(which))
        return self.table.headers[index] if index is not None else None

    @property
    def needs_date_column(self) -> bool:
        return self.config.mapping.header(SheetField.DATE) is None

    @property
    def units_disagree(self) -> str | None:
        return "Units do not agree: " + "; ".join(self.conflicts) if self.conflicts else None

    @property
    def summary(self) -> str:
        return f"{self.total_rows} rows read, {len(self.problems)} problems"

    @property
    def ready(self) -> bool:
        """Whether this mapping may be saved: every column found, units agreed and answered."""
        return (
            self.column_error is None
            and self.read_error is None
            and not self.conflicts
            and not self.unanswered
        )


def preview_table(
    table: SheetTable,
    mapping: SheetMapping,
    home_zone: str | None,
    choices: SheetChoices | None = None,
    questions: tuple[Question, ...] | None = None,
) -> SheetPreview:
    """`table` read with `mapping` (a stored one, or `mapping_for` the user's `choices`)."""
    try:
        check_columns(table, mapping)
        column_error = None
    except SheetError as exc:
        column_error = str(exc)
    rows: tuple[PreviewRow, ...] = ()
    problems: tuple[str, ...] = ()
    total, read_error, warning = 0, None, None
    try:
        parsed = parse_sheet(table, mapping, home_zone)
    except CellError as exc:
        read_error = str(exc)
    else:
        rows = tuple(PreviewRow.of(r) for r in parsed.rows[:PREVIEW_ROWS])
        total = len(parsed.rows)
        problems = tuple(str(p) for p in parsed.problems)
        if not home_zone and any(
            r.activity.start_utc is None and not r.activity.date_only for r in parsed.rows
        ):
            warning = NO_HOME_ZONE
    unanswered = tuple(open_questions(table, mapping))
    return SheetPreview(
        table=table,
        config=SheetConfig(table.path, table.sheet, table.header_row, mapping),
        choices=choices or SheetChoices(),
        ignored=tuple(unmapped_headers(table, mapping)),
        rows=rows,
        total_rows=total,
        problems=problems,
        questions=unanswered if questions is None else questions,
        unanswered=unanswered,
        conflicts=tuple(unit_conflicts(table, mapping)),
        column_error=column_error,
        read_error=read_error,
        warning=warning,
    )


def preview_choices(
    table: SheetTable, choices: SheetChoices, home_zone: str | None
) -> SheetPreview:
    """The detected mapping with the user's `choices`; `questions` are those the sheet raises
    before any answer, so a form can keep showing a question once it is answered."""
    asked = tuple(open_questions(table, mapping_for(table, choices.without_answers())))
    return preview_table(table, mapping_for(table, choices), home_zone, choices, asked)


def preview_sheet(
    path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    choices: SheetChoices | None = None,
    home_zone: str | None = None,
) -> SheetPreview:
    """Read the file and preview it; raises SheetError (naming the file) when it cannot be read."""
    return preview_choices(
        read_table(path, sheet, header_row), choices or SheetChoices(), home_zone
    )


def connect_sheet(db: Database, config: SheetConfig) -> str:
    """Record the connection as every provider's is (settings row, status, notification), so
    a sheet connected again after a disconnect shows as connected; what to tell the user."""
    message = f"Connected {config.path.name}."
    record_connection(db, ProviderName.SPREADSHEET, config.as_json(), message)
    return message


@dataclass(frozen=True, slots=True)
class RowIdsAdded:
    config: SheetConfig  # the connection as saved, now reading the id column
    rows: int  # rows given an id
    kept: int  # stored records moved to their row's new id (keeping links, pins, history)
    backup: Path | None

    @property
    def message(self) -> str:
        kept = (
            f"; {self.kept} imported rows keep their history under the new ids" if self.kept else ""
        )
        return f"Added a {ROW_ID_HEADER!r} column ({self.rows} rows{kept})." + (
            f" Backup: {self.backup}" if self.backup else ""
        )


def add_row_id_column(db: Database, config: SheetConfig, home_zone: str | None) -> RowIdsAdded:
    """Write a Tracekit ID column into the sheet (after a backup) and save the connection that
    reads it. Raises ProviderError, with nothing saved, when the sheet cannot be written."""
    provider = SpreadsheetProvider(config, home_zone)
    new_config, renames = provider.add_row_ids()
    with db.session() as session:
        save_sheet_config(session, new_config)
        moved = adopt_row_ids(session, renames)
    backup = provider.last_write.backup if provider.last_write else None
    return RowIdsAdded(new_config, len(renames), moved, backup)
