"""Connecting a training log from the window: real .xlsx and .csv files in a temp folder, the
real preview and a real database; the file is "chosen" by a stand-in for the native dialog."""

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.test_spreadsheet import LOG_HEADER, LOG_ROWS, make_csv, make_xlsx
from tracekit.spreadsheet.config import Question, SheetConfig, load_sheet_config
from tracekit.spreadsheet.mapping import DateOrder, DistanceUnit, DurationUnit, SheetField
from tracekit.spreadsheet.writer import backups_of
from tracekit.store.engine import Database
from ui.sheet_connect_dialog import NOT_READ, SheetConnectDialog
from ui.workers import TaskRunner

DONE_MS = 20_000
F = SheetField

type DialogFactory = Callable[..., SheetConnectDialog]


@pytest.fixture
def dialog_for(qtbot: QtBot, db: Database) -> Iterator[DialogFactory]:
    """An open dialog over `db` whose "Choose file…" picks `path`."""
    owner = QWidget()
    qtbot.addWidget(owner)
    runner = TaskRunner(parent=owner)

    def make(path: Path, home_zone: str | None = "Europe/Madrid") -> SheetConnectDialog:
        dialog = SheetConnectDialog(db, runner, home_zone, owner, choose_file=lambda _p: path)
        dialog.open()
        return dialog

    yield make
    runner.cancel_all()
    runner.wait()


def choose(qtbot: QtBot, dialog: SheetConnectDialog) -> None:
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        dialog.choose_button.click()


def pick(qtbot: QtBot, dialog: SheetConnectDialog, combo_text: str, *, field: F) -> None:
    combo = dialog.columns[field]
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        combo.setCurrentIndex(combo.findText(combo_text))


def answer(qtbot: QtBot, dialog: SheetConnectDialog, question: Question, value: str) -> None:
    combo = dialog.questions[question]
    assert combo.isVisibleTo(dialog) and combo.currentIndex() == -1  # asked, not guessed
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        combo.setCurrentIndex(combo.findData(value))


def connect(qtbot: QtBot, dialog: SheetConnectDialog) -> str:
    assert dialog.connect_button.isEnabled()
    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        dialog.connect_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    message: str = connected.args[0]
    return message


def log_with_two_text_columns(folder: Path) -> Path:
    """A log whose "Comments" and "Ride name" could each be read as the name or the notes."""
    return make_xlsx(
        folder / "log.xlsx",
        ["When", "Sport", "Distance (mi)", "Comments", "Ride name"],
        [[datetime(2024, 5, 1), "Run", 10, "Easy", "Park"]],
    )


def stored(db: Database) -> SheetConfig | None:
    with db.session() as session:
        return load_sheet_config(session)


def cell_texts(dialog: SheetConnectDialog, row: int) -> list[str]:
    items = [dialog.table.item(row, column) for column in range(dialog.table.columnCount())]
    return [item.text() if item is not None else "" for item in items]


def test_a_sheet_that_states_its_units_shows_its_mapping_and_rows_and_connects(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    dialog = dialog_for(path)
    assert not dialog.connect_button.isEnabled()  # no file yet
    choose(qtbot, dialog)

    assert dialog.path_label.text() == str(path)
    assert dialog.sheet_row.isVisibleTo(dialog)  # "Log" and "Totals"
    assert [dialog.sheet_choice.itemText(i) for i in range(2)] == ["Log", "Totals"]
    assert dialog.columns[F.DISTANCE].currentText() == "Distance (km)"
    assert dialog.columns[F.NAME].currentText() == NOT_READ
    assert not any(c.isVisibleTo(dialog) for c in dialog.questions.values())
    assert dialog.table.rowCount() == 4
    assert cell_texts(dialog, 0) == ["2", "2024-05-01", "ride", "42.50 km", "1:30:00", "Loop"]
    assert dialog.summary.text() == "4 rows read, 0 problems"
    assert not dialog.error.isVisibleTo(dialog)
    assert not dialog.add_ids.isChecked()

    assert connect(qtbot, dialog) == "Connected log.xlsx."
    config = stored(db)
    assert config is not None and config.path == path and config.sheet == "Log"
    assert dict(config.mapping.columns) == {
        F.DATE: "Date",
        F.SPORT: "Type",
        F.DISTANCE: "Distance (km)",
        F.DURATION: "Time",
        F.NOTES: "Notes",
        F.GEAR: "Bike",
    }
    assert config.mapping.distance_unit is DistanceUnit.KM
    assert openpyxl.load_workbook(path)["Log"].max_column == len(LOG_HEADER)  # untouched
    assert backups_of(path) == []


def test_bare_distances_keep_connect_disabled_until_the_unit_is_chosen(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_xlsx(
        tmp_path / "log.xlsx",
        ["Date", "Sport", "Distance", "Time", "Notes"],
        [[datetime(2024, 5, 1), "Run", 10, "0:50:00", "Easy"]],
        second_sheet=False,
    )
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    assert not dialog.sheet_row.isVisibleTo(dialog)  # one worksheet: nothing to choose
    assert not dialog.connect_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # Enter does nothing while a unit is open
    assert dialog.isVisible() and stored(db) is None
    assert cell_texts(dialog, 0)[3] == "—"  # no unit, no distance: never a guess
    assert "choose km or mi" in dialog.problems.text()

    answer(qtbot, dialog, Question.DISTANCE_UNIT, "mi")
    assert dialog.questions[Question.DISTANCE_UNIT].isVisibleTo(dialog)  # still shown, answered
    assert cell_texts(dialog, 0)[3] == "16.09 km"
    assert dialog.connect_button.isEnabled()
    with qtbot.waitSignal(dialog.connected, timeout=DONE_MS) as connected:
        QTest.keyClick(dialog, Qt.Key.Key_Return)  # Enter connects once it may
    assert connected.args == ["Connected log.xlsx."]
    config = stored(db)
    assert config is not None and config.mapping.distance_unit is DistanceUnit.MI


def test_every_open_question_must_be_answered_and_each_answer_is_stored(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_csv(tmp_path / "log.csv", "Date,Sport,Distance,Duration\n03/04/2024,Run,10,50\n")
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    answer(qtbot, dialog, Question.DISTANCE_UNIT, "km")
    answer(qtbot, dialog, Question.DURATION_UNIT, DurationUnit.MINUTES.value)
    assert not dialog.connect_button.isEnabled()  # 03/04 is still either day
    answer(qtbot, dialog, Question.DATE_ORDER, DateOrder.MDY.value)
    assert cell_texts(dialog, 0)[1:5] == ["2024-03-04", "run", "10.00 km", "50:00"]
    assert connect(qtbot, dialog) == "Connected log.csv."
    config = stored(db)
    assert config is not None
    mapping = config.mapping
    assert mapping.distance_unit is DistanceUnit.KM
    assert mapping.duration_unit is DurationUnit.MINUTES
    assert mapping.date_order is DateOrder.MDY


def test_a_column_changed_in_the_mapping_is_stored(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = log_with_two_text_columns(tmp_path)
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    assert dialog.columns[F.NAME].currentText() == NOT_READ
    assert cell_texts(dialog, 0)[5] == "Easy"  # the notes stand in for a name
    assert "Ride name" in dialog.ignored.text()

    pick(qtbot, dialog, "Ride name", field=F.NAME)
    assert cell_texts(dialog, 0)[5] == "Park"
    pick(qtbot, dialog, NOT_READ, field=F.NOTES)
    assert connect(qtbot, dialog) == "Connected log.xlsx."
    config = stored(db)
    assert config is not None
    assert config.mapping.header(F.NAME) == "Ride name"
    assert config.mapping.header(F.NOTES) is None
    assert config.mapping.distance_unit is DistanceUnit.MI


def test_without_a_date_column_connect_waits_for_the_user_to_name_one(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        dialog.sheet_choice.setCurrentText("Totals")  # a sheet of yearly sums, no dates
    assert "log.xlsx" in dialog.error.text() and "date" in dialog.error.text()
    assert dialog.error.isVisibleTo(dialog) and not dialog.connect_button.isEnabled()
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        dialog.sheet_choice.setCurrentText("Log")
    pick(qtbot, dialog, NOT_READ, field=F.DATE)
    assert "no date column" in dialog.error.text() and not dialog.connect_button.isEnabled()
    pick(qtbot, dialog, "Date", field=F.DATE)
    assert not dialog.error.isVisibleTo(dialog)
    assert connect(qtbot, dialog) == "Connected log.xlsx."


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("log.xlsx", os.urandom(4096)),  # corrupt: not a workbook at all
        ("log.xls", b"\xd0\xcf\x11\xe0 an old Excel file"),  # a format Tracekit does not read
    ],
)
def test_an_unreadable_file_is_named_the_dialog_stays_and_nothing_is_stored(
    qtbot: QtBot,
    db: Database,
    tmp_path: Path,
    dialog_for: DialogFactory,
    name: str,
    data: bytes,
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    dialog = dialog_for(path)
    with qtbot.waitSignal(dialog.failed, timeout=DONE_MS) as failed:
        dialog.choose_button.click()
    message: str = failed.args[0]
    assert name in message and dialog.error.text() == message
    assert dialog.error.isVisibleTo(dialog) and not dialog.details.isVisibleTo(dialog)
    assert dialog.isVisible() and not dialog.connect_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and stored(db) is None


def test_a_text_file_that_is_no_log_is_named_and_nothing_is_stored(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_csv(tmp_path / "notes.txt", "Shopping list\nmilk\neggs\n")
    dialog = dialog_for(path)
    choose(qtbot, dialog)  # Tracekit reads .txt as text columns: it finds no dates in it
    assert "notes.txt" in dialog.error.text() and dialog.error.isVisibleTo(dialog)
    assert not dialog.connect_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and stored(db) is None


def test_a_corrupt_file_then_a_good_one_connects_the_good_one(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(os.urandom(2048))
    good = make_csv(tmp_path / "good.csv", "Date,Sport,Distance (km)\n2024-05-01,Run,10\n")
    chosen = iter([bad, good])
    dialog = dialog_for(bad)
    dialog.choose_file = lambda _parent: next(chosen)
    with qtbot.waitSignal(dialog.failed, timeout=DONE_MS):
        dialog.choose_button.click()
    choose(qtbot, dialog)
    assert not dialog.error.isVisibleTo(dialog)
    assert connect(qtbot, dialog) == "Connected good.csv."
    config = stored(db)
    assert config is not None and config.path == good


def test_the_id_column_box_adds_the_column_after_a_backup(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    before = path.read_bytes()
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    dialog.add_ids.setChecked(True)
    message = connect(qtbot, dialog)
    assert message.startswith("Connected log.xlsx. Added a 'Tracekit ID' column (4 rows).")
    (backup,) = backups_of(path)
    assert f"Backup: {backup}" in message
    assert backup.read_bytes() == before
    sheet = openpyxl.load_workbook(path)["Log"]
    id_column = len(LOG_HEADER) + 1
    assert sheet.cell(1, id_column).value == "Tracekit ID"
    ids = [sheet.cell(row, id_column).value for row in range(2, len(LOG_ROWS) + 2)]
    assert all(isinstance(i, str) and i.startswith("tk-") for i in ids)
    config = stored(db)
    assert config is not None and config.mapping.header(F.ROW_ID) == "Tracekit ID"


def test_escape_cancels_and_stores_nothing(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    dialog = dialog_for(make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS))
    choose(qtbot, dialog)
    with qtbot.waitSignal(dialog.rejected, timeout=DONE_MS):
        QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert stored(db) is None


def test_rows_with_a_time_and_no_home_zone_are_warned_about(
    qtbot: QtBot, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_csv(tmp_path / "log.csv", "Date,Sport\n2024-05-01 07:30,Run\n")
    dialog = dialog_for(path, home_zone=None)
    choose(qtbot, dialog)
    assert "No home time zone" in dialog.warning.text() and dialog.warning.isVisibleTo(dialog)


def test_quick_changes_all_count_and_only_the_latest_preview_is_shown(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = log_with_two_text_columns(tmp_path)
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    shown: list[object] = []
    dialog.previewed.connect(shown.append)
    name, notes = dialog.columns[F.NAME], dialog.columns[F.NOTES]
    with qtbot.waitSignal(dialog.previewed, timeout=DONE_MS):
        name.setCurrentIndex(name.findText("Ride name"))  # no waiting in between
        notes.setCurrentIndex(notes.findText(NOT_READ))
    assert len(shown) == 1  # the first reply was overtaken and dropped
    assert (name.currentText(), notes.currentText()) == ("Ride name", NOT_READ)
    assert connect(qtbot, dialog) == "Connected log.xlsx."
    config = stored(db)
    assert config is not None and config.mapping.header(F.NAME) == "Ride name"
    assert config.mapping.header(F.NOTES) is None


def test_a_sheet_open_in_excel_is_connected_without_the_id_column_and_says_why(
    qtbot: QtBot, db: Database, tmp_path: Path, dialog_for: DialogFactory
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    path.with_name("~$log.xlsx").write_text("owner")  # Excel's lock file beside it
    before = path.read_bytes()
    dialog = dialog_for(path)
    choose(qtbot, dialog)
    dialog.add_ids.setChecked(True)
    message = connect(qtbot, dialog)
    assert message.startswith("Connected log.xlsx. The 'Tracekit ID' column was not added:")
    assert "open in Excel" in message
    assert path.read_bytes() == before and backups_of(path) == []
    config = stored(db)
    assert config is not None and config.mapping.header(F.ROW_ID) is None
