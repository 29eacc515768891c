"""Connecting a training log from the window: choose the file, see how Tracekit reads it, connect.

Everything shown comes from `tracekit.spreadsheet.preview`, the same preview `tracekit sheet
connect` prints, and is computed on the runner: the file is read once per worksheet, and each
column moved or question answered re-previews that table off the GUI thread too. A reply older
than the latest request is dropped, so quick edits never show a stale mapping. Units are never
guessed: the questions start unanswered and Connect stays disabled until each has an answer.
Nothing is written until Connect, which saves on the runner as well.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracekit.providers.base import ProviderError
from tracekit.spreadsheet.config import Question, SheetConfig
from tracekit.spreadsheet.mapping import ROW_ID_HEADER, DateOrder, DurationUnit, SheetField
from tracekit.spreadsheet.preview import (
    PREVIEW_COLUMNS,
    SHOWN_PROBLEMS,
    SheetChoices,
    SheetPreview,
    add_row_id_column,
    connect_sheet,
    preview_choices,
    preview_sheet,
)
from tracekit.spreadsheet.table import SheetError, SheetTable
from ui.theme import ERROR_COLOR
from ui.workers import TaskContext, TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tracekit.store.engine import Database

log = logging.getLogger(__name__)

FILE_FILTER = "Training logs (*.xlsx *.csv)"
NOT_READ = "(not read)"
ADD_ID_LABEL = "Add a Tracekit id column to the sheet (a backup is made first)"
CHOICE_LABELS: dict[str, str] = {
    DurationUnit.SECONDS: "seconds",
    DurationUnit.MINUTES: "minutes",
    DurationUnit.HOURS: "hours",
    DateOrder.DMY: "day/month (03/04 is 3 April)",
    DateOrder.MDY: "month/day (03/04 is 4 March)",
}
QUESTION_LABELS = {
    Question.DISTANCE_UNIT: "Distances are in",
    Question.DURATION_UNIT: "Bare durations count",
    Question.DATE_ORDER: "Dates are written",
}

type ChooseFile = Callable[[QWidget], Path | None]


def choose_sheet_file(parent: QWidget) -> Path | None:
    """The native open dialog, showing only the files Tracekit reads as a log."""
    name, _ = QFileDialog.getOpenFileName(
        parent, "Choose your training log", str(Path.home()), FILE_FILTER
    )
    return Path(name) if name else None


@dataclass(frozen=True, slots=True)
class _Reply:
    """A preview task's answer, tagged with the request it answers; a file that cannot be read
    is an answer too (the message names the file), not a task failure."""

    request: int
    path: Path
    preview: SheetPreview | None
    error: str | None


def _field_label(which: SheetField) -> str:
    if which is SheetField.INTERVALSICU_ID:  # the brand is written in lower case
        return which.label
    return which.label[:1].upper() + which.label[1:]


def _naming(path: Path, message: str) -> str:
    return message if path.name in message else f"{path.name}: {message}"


class SheetConnectDialog(QDialog):
    """Connect a training log; `connected` carries what to tell the user."""

    connected = Signal(str)
    previewed = Signal(object)  # SheetPreview, once it is shown
    failed = Signal(str)  # a file that cannot be read, or a connect that failed

    def __init__(
        self,
        db: "Database",
        runner: TaskRunner,
        home_zone: str | None,
        parent: QWidget | None = None,
        *,
        choose_file: ChooseFile | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.runner = runner
        self.home_zone = home_zone
        self.choose_file = choose_file or choose_sheet_file
        self.path: Path | None = None
        self.preview: SheetPreview | None = None
        self.choices = SheetChoices()
        self.connect_handle: TaskHandle | None = None
        self._requests = 0  # the latest preview request; older replies are dropped
        self._waiting = False  # a preview is on its way
        self._filling = False  # the form is being set from a preview, not by the user
        self.setWindowTitle("Connect a training log")
        self.resize(860, 760)

        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAutoDefault(False)  # Enter connects, whatever has the focus
        self.choose_button.clicked.connect(self.choose)
        self.path_label = QLabel("No file chosen: an .xlsx or .csv training log.")
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.choose_button)
        file_row.addWidget(self.path_label, 1)

        self.sheet_choice = QComboBox()
        self.sheet_choice.setAccessibleName("Worksheet")
        self.sheet_choice.currentIndexChanged.connect(self._sheet_chosen)
        self.sheet_row = QWidget()
        sheet_layout = QFormLayout(self.sheet_row)
        sheet_layout.setContentsMargins(0, 0, 0, 0)
        sheet_layout.addRow("Worksheet", self.sheet_choice)
        self.sheet_row.hide()

        self.error = QLabel("")
        self.error.setObjectName("sheet-error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        self.details = QWidget()
        self.details.hide()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self._columns_box(), 1)
        top.addWidget(self._units_box(), 1)
        details.addLayout(top)
        self.table = QTableWidget(0, len(PREVIEW_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(PREVIEW_COLUMNS))
        self.table.setAccessibleName("The first rows as Tracekit reads them")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        details.addWidget(QLabel("The first rows as Tracekit reads them:"))
        details.addWidget(self.table, 1)
        self.summary = QLabel("")
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        details.addWidget(self.summary)
        details.addWidget(self.problems)
        details.addWidget(self.warning)
        self.add_ids = QCheckBox(ADD_ID_LABEL)
        self.add_ids.setToolTip(
            f"A {ROW_ID_HEADER!r} column keeps each row's identity even when you change its "
            "date or sport"
        )
        details.addWidget(self.add_ids)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton(
            "Connect", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.start_connect)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.sheet_row)
        layout.addWidget(self.error)
        layout.addWidget(self.details, 1)
        layout.addStretch(0)
        layout.addWidget(self.buttons)
        # Only once it is in the dialog does the default button become the dialog's (Enter).
        self.connect_button.setDefault(True)
        self._update_button()

    def _columns_box(self) -> QGroupBox:
        box = QGroupBox("Columns")
        form = QFormLayout(box)
        self.columns: dict[SheetField, QComboBox] = {}
        for which in SheetField:
            combo = QComboBox()
            combo.setAccessibleName(f"Column for {which.label}")
            combo.currentIndexChanged.connect(lambda _index, w=which: self._column_chosen(w))
            self.columns[which] = combo
            form.addRow(_field_label(which), combo)
        return box

    def _units_box(self) -> QGroupBox:
        box = QGroupBox("Units")
        layout = QVBoxLayout(box)
        note = QLabel("Tracekit never guesses a unit: answer what the headers do not say.")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.question_form = QFormLayout()
        self.questions: dict[Question, QComboBox] = {}
        for question in Question:
            combo = QComboBox()
            combo.setAccessibleName(question.prompt)
            combo.setToolTip(question.prompt)
            combo.setPlaceholderText("Choose…")
            for value in question.choices:
                combo.addItem(CHOICE_LABELS.get(value, value), value)
            combo.setCurrentIndex(-1)
            combo.currentIndexChanged.connect(lambda _index, q=question: self._answered(q))
            self.questions[question] = combo
            self.question_form.addRow(QUESTION_LABELS[question], combo)
            self.question_form.setRowVisible(combo, False)
        layout.addLayout(self.question_form)
        self.units = QLabel("")
        self.units.setWordWrap(True)
        self.ignored = QLabel("")
        self.ignored.setWordWrap(True)
        layout.addWidget(self.units)
        layout.addWidget(self.ignored)
        layout.addStretch(1)
        return box

    # ------------------------------------------------------------------ choosing
    def choose(self) -> None:
        """Ask for a file and read it (the first worksheet, or the active one)."""
        path = self.choose_file(self)
        if path is None:
            return
        self.path = path
        self.path_label.setText(str(path))
        self.sheet_choice.clear()  # another file's worksheets
        self.sheet_row.hide()
        self._read(path, None)

    def _sheet_chosen(self) -> None:
        sheet = self.sheet_choice.currentText()
        if self._filling or self.path is None or not sheet:
            return
        self._read(self.path, sheet)

    def _column_chosen(self, which: SheetField) -> None:
        if self._filling or self.preview is None:
            return
        header = self.columns[which].currentData()
        self.choices = self.choices.with_column(which, header)
        self._repreview(self.preview.table)

    def _answered(self, question: Question) -> None:
        if self._filling or self.preview is None:
            return
        self.choices = self.choices.with_answer(question, self.questions[question].currentData())
        self._repreview(self.preview.table)

    # ------------------------------------------------------------------ previewing
    def _read(self, path: Path, sheet: str | None) -> None:
        """A new file or worksheet: its columns differ, so the user's choices start afresh."""
        self.choices = SheetChoices()
        self.details.setEnabled(False)
        home = self.home_zone
        self._request(path, lambda: preview_sheet(path, sheet, None, None, home))

    def _repreview(self, table: SheetTable) -> None:
        choices, home = self.choices, self.home_zone
        self._request(table.path, lambda: preview_choices(table, choices, home))

    def _request(self, path: Path, compute: Callable[[], SheetPreview]) -> None:
        self._requests += 1
        request = self._requests
        self._waiting = True
        self._update_button()

        def work(_ctx: TaskContext) -> _Reply:
            try:
                return _Reply(request, path, compute(), None)
            except SheetError as exc:
                return _Reply(request, path, None, _naming(path, str(exc)))
            except Exception as exc:  # a file that breaks the reader is still just unreadable
                log.exception("reading %s failed", path)
                return _Reply(request, path, None, f"{path.name} could not be read ({exc})")

        self.runner.start(work, name="sheet preview", on_result=self._replied)

    def _replied(self, reply: _Reply) -> None:
        if reply.request != self._requests:
            return  # a later request is on its way
        self._waiting = False
        self.details.setEnabled(True)
        if reply.preview is None:
            self._show_failure(reply.error or f"{reply.path.name} could not be read")
            return
        self._show(reply.preview)

    def _show_failure(self, message: str) -> None:
        self.preview = None
        self.details.hide()  # (a worksheet that failed leaves the others to choose from)
        self._set_error(message)
        self._update_button()
        self.failed.emit(message)

    def _show(self, preview: SheetPreview) -> None:
        new_table = self.preview is None or self.preview.table is not preview.table
        self.preview = preview
        self._filling = True
        try:
            if new_table:
                self._fill_sheets(preview)
                self._fill_headers(preview)
            self._fill_columns(preview)
            self._fill_questions(preview)
        finally:
            self._filling = False
        self._fill_rows(preview)
        self._set_error(self._blocking(preview))
        self.units.setText(f"Units: {preview.units}" if preview.units else "")
        self.ignored.setText("Not read: " + ", ".join(preview.ignored) if preview.ignored else "")
        self.add_ids.setEnabled(SheetField.ROW_ID not in preview.config.mapping.columns)
        if not self.add_ids.isEnabled():
            self.add_ids.setChecked(False)
        self.details.show()
        self._update_button()
        self.previewed.emit(preview)

    def _fill_sheets(self, preview: SheetPreview) -> None:
        self.sheet_choice.clear()
        self.sheet_choice.addItems(list(preview.sheet_names))
        self.sheet_choice.setCurrentText(preview.config.sheet or "")
        self.sheet_row.setVisible(len(preview.sheet_names) > 1)

    def _fill_headers(self, preview: SheetPreview) -> None:
        for combo in self.columns.values():
            combo.clear()
            combo.addItem(NOT_READ, None)
            for header in preview.headers:
                combo.addItem(header, header)

    def _fill_columns(self, preview: SheetPreview) -> None:
        for which, combo in self.columns.items():
            header = preview.column_of(which)
            combo.setCurrentIndex(max(0, combo.findData(header)) if header else 0)

    def _fill_questions(self, preview: SheetPreview) -> None:
        for question, combo in self.questions.items():
            self.question_form.setRowVisible(combo, question in preview.questions)
            answer = preview.choices.answer(question)
            combo.setCurrentIndex(combo.findData(answer) if answer else -1)

    def _fill_rows(self, preview: SheetPreview) -> None:
        self.table.setRowCount(len(preview.rows))
        for index, row in enumerate(preview.rows):
            for column, text in enumerate(row.texts()):
                self.table.setItem(index, column, QTableWidgetItem(text))
        self.summary.setText(preview.summary)
        shown = preview.problems[:SHOWN_PROBLEMS]
        more = len(preview.problems) - len(shown)
        self.problems.setText("\n".join([*shown, *([f"… and {more} more"] if more > 0 else [])]))
        self.problems.setVisible(bool(shown))
        self.warning.setText(preview.warning or "")
        self.warning.setVisible(preview.warning is not None)

    def _blocking(self, preview: SheetPreview) -> str:
        """What keeps this mapping from being connected, naming the file; "" when nothing."""
        name = preview.config.path.name
        if preview.needs_date_column:
            return f"{name}: no date column found; choose the column that holds the dates."
        problem = preview.column_error or preview.read_error or preview.units_disagree
        return _naming(preview.config.path, problem) if problem else ""

    def _set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _update_button(self) -> None:
        self.connect_button.setEnabled(
            self.preview is not None
            and self.preview.ready
            and not self._waiting
            and self.connect_handle is None
        )

    # ------------------------------------------------------------------ connecting
    def start_connect(self) -> None:
        """Save the connection (and add the id column when asked) on the runner."""
        if self.preview is None or not self.connect_button.isEnabled():
            return
        db, config, home = self.db, self.preview.config, self.home_zone
        add_ids = self.add_ids.isChecked()
        self._set_error("")
        self.connect_handle = self.runner.start(
            lambda _ctx: _connect(db, config, home, add_ids),
            name="sheet connect",
            on_result=self._connected,
            on_error=self._connect_failed,
            on_finished=self._connect_finished,
        )
        self._update_button()

    def _connected(self, message: str) -> None:
        self.connected.emit(message)
        self.accept()

    def _connect_failed(self, message: str) -> None:
        name = self.preview.config.path.name if self.preview else "The sheet"
        shown = f"{name} was not connected: {message}"
        self._set_error(shown)
        self.failed.emit(shown)

    def _connect_finished(self) -> None:
        self.connect_handle = None
        self._update_button()

    def reject(self) -> None:
        """Cancel, unless the connection is being saved: then it is too late to take back,
        and the dialog stays to report it."""
        if self.connect_handle is not None:
            return
        super().reject()


def _connect(db: "Database", config: SheetConfig, home: str | None, add_ids: bool) -> str:
    """Connect, then add the id column if asked; the sheet stays connected when that write
    fails (it may be open in Excel), and the message says so."""
    message = connect_sheet(db, config)
    if not add_ids:
        return message
    try:
        return f"{message} {add_row_id_column(db, config, home).message}"
    except ProviderError as exc:
        return f"{message} The {ROW_ID_HEADER!r} column was not added: {exc}"
