"""The connect preview shared by `tracekit sheet connect` and the window: the user's columns and
answers on top of detection, what still needs answering, and connecting with an id column."""

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tests.test_spreadsheet import LOG_HEADER, LOG_ROWS, make_csv, make_xlsx
from tests.test_spreadsheet_provider import provider_for, store
from tracekit.providers.names import ProviderName
from tracekit.spreadsheet.config import Question, detect_for, load_sheet_config
from tracekit.spreadsheet.mapping import DateOrder, DistanceUnit, DurationUnit, SheetField
from tracekit.spreadsheet.preview import (
    NO_HOME_ZONE,
    SheetChoices,
    add_row_id_column,
    connect_sheet,
    mapping_for,
    preview_choices,
    preview_sheet,
)
from tracekit.spreadsheet.table import SheetError, read_table
from tracekit.spreadsheet.writer import backups_of
from tracekit.store.engine import Database

F = SheetField


@pytest.mark.parametrize(
    "text",
    [
        "Date,Type,Distance (mi),Time,Notes,Bike\n2024-05-01,Run,6,0:50:00,Easy,\n",
        "Day,Activity,Miles,Minutes,Route\n13/04/2024,Run,6,50,Park\n",
        "Date,Time,Duration,Distance\n03/04/2024,07:30,50,10\n",
    ],
)
def test_without_choices_the_mapping_is_the_detected_one(tmp_path: Path, text: str) -> None:
    table = read_table(make_csv(tmp_path / "log.csv", text))
    assert mapping_for(table, SheetChoices()) == detect_for(table)


def test_a_stated_log_previews_ready_with_its_rows_and_mapping(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    preview = preview_sheet(path, home_zone="Europe/Madrid")
    assert preview.ready and not preview.questions and preview.warning is None
    assert preview.sheet_names == ("Log", "Totals") and preview.config.sheet == "Log"
    assert preview.fields[:3] == (
        (F.DATE, "Date"),
        (F.SPORT, "Type"),
        (F.DISTANCE, "Distance (km)"),
    )
    assert preview.units == "distance in km"
    assert preview.summary == "4 rows read, 0 problems"
    assert preview.rows[1].texts() == ("3", "2024-05-01", "run", "10.00 km", "50:00", "Easy")
    assert preview.column_of(F.NAME) is None and preview.ignored == ()


def test_a_column_moved_takes_its_new_headers_unit_and_drops_the_old_answer(
    tmp_path: Path,
) -> None:
    path = make_csv(tmp_path / "log.csv", "Date,Distance (km),Length,Miles\n2024-05-01,10,12,6.2\n")
    table = read_table(path)
    to_miles = preview_choices(table, SheetChoices().with_column(F.DISTANCE, "Miles"), None)
    assert to_miles.config.mapping.distance_unit is DistanceUnit.MI and to_miles.ready
    # Away from "Distance (km)" to a bare column: km no longer holds, so it is asked.
    bare = SheetChoices().with_column(F.DISTANCE, "Length")
    asked = preview_choices(table, bare, None)
    assert asked.config.mapping.distance_unit is None
    assert asked.unanswered == asked.questions == (Question.DISTANCE_UNIT,)
    answered = preview_choices(table, bare.with_answer(Question.DISTANCE_UNIT, "mi"), None)
    assert answered.questions == (Question.DISTANCE_UNIT,)  # still asked, now answered
    assert not answered.unanswered and answered.ready
    assert answered.rows[0].distance_m == pytest.approx(12 * 1609.344)
    # Moving the column again forgets that answer: it was about the other column.
    again = answered.choices.with_column(F.DISTANCE, "Length")
    assert again.distance_unit is None
    assert preview_choices(table, again, None).unanswered == (Question.DISTANCE_UNIT,)


def test_a_header_given_to_a_second_field_leaves_the_first(tmp_path: Path) -> None:
    table = read_table(make_csv(tmp_path / "log.csv", "Date,Notes,Route\n2024-05-01,Easy,Park\n"))
    choices = SheetChoices().with_column(F.NAME, "Notes").with_column(F.NOTES, "Route")
    mapping = mapping_for(table, choices)
    assert mapping.header(F.NAME) == "Notes" and mapping.header(F.NOTES) == "Route"
    mapping = mapping_for(table, choices.with_column(F.NAME, "Route"))  # the last word wins
    assert mapping.header(F.NAME) == "Route" and mapping.header(F.NOTES) is None


def test_what_blocks_a_connection_is_said_and_the_preview_is_not_ready(tmp_path: Path) -> None:
    path = make_xlsx(
        tmp_path / "log.xlsx",
        ["When", "Distance (mi)", "Time"],
        [[datetime(2024, 5, 1, 7, 30), 6, 45]],
    )
    table = read_table(path)
    preview = preview_choices(table, SheetChoices(), None)
    assert preview.unanswered == (Question.DURATION_UNIT,) and not preview.ready
    assert preview.warning == NO_HOME_ZONE  # a time, and no zone to place it in
    wrong = SheetChoices(distance_unit=DistanceUnit.KM, duration_unit=DurationUnit.MINUTES)
    conflicted = preview_choices(table, wrong, None)
    assert conflicted.units_disagree == (
        "Units do not agree: the header 'Distance (mi)' says mi, but km was chosen"
    )
    no_date = preview_choices(table, SheetChoices().with_column(F.DATE, None), "Europe/Madrid")
    assert no_date.needs_date_column and not no_date.ready
    assert no_date.column_error is not None and "log.xlsx: no date column" in no_date.column_error
    assert no_date.read_error == "the mapping has no date column" and no_date.rows == ()
    with pytest.raises(SheetError, match=r"log\.ods: Tracekit reads \.xlsx and \.csv"):
        preview_sheet(make_csv(tmp_path / "log.ods", "x"))


def test_a_date_order_is_asked_only_where_the_dates_do_not_prove_it(tmp_path: Path) -> None:
    table = read_table(make_csv(tmp_path / "log.csv", "Date,Sport\n03/04/2024,Run\n"))
    asked = preview_choices(table, SheetChoices(), None)
    assert asked.unanswered == (Question.DATE_ORDER,)
    answered = asked.choices.with_answer(Question.DATE_ORDER, "dmy")
    assert answered.answer(Question.DATE_ORDER) == "dmy"
    preview = preview_choices(table, answered, None)
    assert preview.config.mapping.date_order is DateOrder.DMY and preview.ready
    assert preview.rows[0].start == "2024-04-03"


def test_connecting_saves_the_mapping_and_the_id_column_keeps_stored_rows(
    db: Database, tmp_path: Path
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    config = preview_sheet(path).config
    assert connect_sheet(db, config) == "Connected log.xlsx."
    store(db, ProviderName.SPREADSHEET, list(provider_for(path).pull(None, None)))
    added = add_row_id_column(db, config, "Europe/Madrid")
    (backup,) = backups_of(path)
    assert (added.rows, added.kept, added.backup) == (4, 4, backup)
    assert added.message == (
        "Added a 'Tracekit ID' column (4 rows; 4 imported rows keep their history under the "
        f"new ids). Backup: {backup}"
    )
    with db.session() as session:
        assert load_sheet_config(session) == added.config
    assert added.config.mapping.header(F.ROW_ID) == "Tracekit ID"
    assert openpyxl.load_workbook(path)["Log"].cell(1, len(LOG_HEADER) + 1).value == "Tracekit ID"
