"""Training logs: column mapping, values, dates and row identity, and safe write-back."""

import subprocess
import sys
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font

from tracekit.sports import Sport
from tracekit.spreadsheet.config import Question, detect_for, open_questions
from tracekit.spreadsheet.mapping import (
    DateOrder,
    DistanceUnit,
    DurationUnit,
    SheetField,
    SheetMapping,
    detect_mapping,
)
from tracekit.spreadsheet.rows import parse_sheet
from tracekit.spreadsheet.table import SheetError, read_table
from tracekit.spreadsheet.values import (
    CellError,
    duration_cell,
    duration_format_of,
    parse_distance,
    parse_duration,
)
from tracekit.spreadsheet.writer import (
    SheetChanged,
    SheetEdit,
    SheetLocked,
    SheetWriteRefused,
    backups_of,
    write_sheet,
)

F = SheetField


def make_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: dict[str, str] | None = None,
    second_sheet: bool = True,
) -> Path:
    """A workbook like a user keeps: bold headers, number formats, a second sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Log"
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for coordinate, number_format in (formats or {}).items():
        sheet[coordinate].number_format = number_format
    if second_sheet:
        stats = workbook.create_sheet("Totals")
        stats["A1"] = "Year"
        stats["B1"] = 2024
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def make_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------------ mapping


@pytest.mark.parametrize(
    ("headers", "expected", "distance_unit", "duration_unit"),
    [
        (
            ["Date", "Type", "Distance (mi)", "Time", "Notes", "Bike"],
            {
                F.DATE: "Date",
                F.SPORT: "Type",
                F.DISTANCE: "Distance (mi)",
                F.DURATION: "Time",
                F.NOTES: "Notes",
                F.GEAR: "Bike",
            },
            DistanceUnit.MI,
            None,
        ),
        (
            [
                *("Activity Date", "Start Time", "Sport", "Distance [km]", "Duration"),
                *("Title", "Comments", "Shoes", "Strava ID"),
            ],
            {
                F.DATE: "Activity Date",
                F.START_TIME: "Start Time",
                F.SPORT: "Sport",
                F.DISTANCE: "Distance [km]",
                F.DURATION: "Duration",
                F.NAME: "Title",
                F.NOTES: "Comments",
                F.GEAR: "Shoes",
                F.STRAVA_ID: "Strava ID",
            },
            DistanceUnit.KM,
            None,
        ),
        (
            ["Day", "Activity", "Miles", "Minutes", "Route", "Gear", "Garmin Activity ID", "RWGPS"],
            {
                F.DATE: "Day",
                F.SPORT: "Activity",
                F.DISTANCE: "Miles",
                F.DURATION: "Minutes",
                F.NAME: "Route",
                F.GEAR: "Gear",
                F.GARMIN_ID: "Garmin Activity ID",
                F.RIDEWITHGPS_ID: "RWGPS",
            },
            DistanceUnit.MI,
            DurationUnit.MINUTES,
        ),
        (
            ["date", "km", "Time (hh:mm:ss)", "notes", "Avg HR", "Elevation (m)"],
            {F.DATE: "date", F.DISTANCE: "km", F.DURATION: "Time (hh:mm:ss)", F.NOTES: "notes"},
            DistanceUnit.KM,
            None,
        ),
        (
            # "Time" beside a real duration column is the start time; no unit anywhere.
            ["Date", "Time", "Duration", "Distance", "Description", "Equipment", "Tracekit ID"],
            {
                F.DATE: "Date",
                F.START_TIME: "Time",
                F.DURATION: "Duration",
                F.DISTANCE: "Distance",
                F.NOTES: "Description",
                F.GEAR: "Equipment",
                F.ROW_ID: "Tracekit ID",
            },
            None,
            None,
        ),
    ],
)
def test_the_mapping_is_detected_from_the_headers_of_real_logs(
    headers: list[str],
    expected: dict[SheetField, str],
    distance_unit: DistanceUnit | None,
    duration_unit: DurationUnit | None,
) -> None:
    mapping = detect_mapping(headers)
    assert dict(mapping.columns) == expected
    assert mapping.distance_unit is distance_unit
    assert mapping.duration_unit is duration_unit


def test_km_or_miles_is_never_guessed(tmp_path: Path) -> None:
    bare = make_xlsx(tmp_path / "bare.xlsx", ["Date", "Distance"], [[datetime(2024, 5, 1), 10]])
    table = read_table(bare)
    mapping = detect_for(table)
    assert mapping.distance_unit is None
    assert open_questions(table, mapping) == [Question.DISTANCE_UNIT]
    parsed = parse_sheet(table, mapping, None)
    assert parsed.rows[0].activity.distance_m is None
    assert "choose km or mi" in str(parsed.problems[0])
    # The same number in miles and in km are two different sessions, both read exactly.
    assert parse_distance(10, DistanceUnit.MI) == pytest.approx(16_093.44)
    assert parse_distance(10, DistanceUnit.KM) == 10_000
    # A unit written in the cells answers the question; a header unit does too.
    written = make_xlsx(tmp_path / "w.xlsx", ["Date", "Distance"], [[date(2024, 5, 1), "6.2 mi"]])
    table = read_table(written)
    assert open_questions(table, detect_for(table)) == []
    assert parse_sheet(table, detect_for(table), None).rows[0].activity.distance_m == (
        pytest.approx(9_977.93, abs=0.01)
    )


@pytest.mark.parametrize(
    ("value", "unit", "number_format", "seconds"),
    [
        ("1:02:03", None, None, 3723),
        ("01:02:03", None, None, 3723),
        ("62:03", None, None, 3723),
        (3723, DurationUnit.SECONDS, "General", 3723),
        ("3723", DurationUnit.SECONDS, None, 3723),
        (62.05, DurationUnit.MINUTES, "General", 3723),
        (time(1, 2, 3), None, "h:mm:ss", 3723),
        (timedelta(hours=26, minutes=3), None, "[h]:mm:ss", 93_780),
        (3723 / 86_400, None, "[h]:mm:ss", 3723),
        (datetime(1899, 12, 31, 2, 0), None, "h:mm:ss", 26 * 3600),  # a day+ Excel time
        ("1h 2m 3s", None, None, 3723),
        ("45 min", None, None, 2700),
    ],
)
def test_durations_parse_in_every_shape_a_log_writes_them(
    value: Any, unit: DurationUnit | None, number_format: str | None, seconds: float
) -> None:
    assert parse_duration(value, unit, number_format) == pytest.approx(seconds)


def test_a_bare_duration_number_needs_the_sheets_unit() -> None:
    with pytest.raises(CellError, match="seconds, minutes or hours"):
        parse_duration(45, None, "General")


@pytest.mark.parametrize(
    ("samples", "excel", "written"),
    [
        ([("1:02:03", None)], False, ("1:40:00", None)),
        ([("01:02:03", None)], False, ("01:40:00", None)),
        ([("62:03", None)], False, ("100:00", None)),
        ([(time(1, 2, 3), "h:mm:ss")], True, (6000 / 86_400, "h:mm:ss")),
        ([(3723, "General")], True, (6000, "General")),
    ],
)
def test_a_written_duration_keeps_the_columns_format(
    samples: list[tuple[Any, str | None]], excel: bool, written: tuple[Any, str | None]
) -> None:
    fmt = duration_format_of(samples)
    assert duration_cell(6000, fmt, DurationUnit.SECONDS, excel) == written


# ----------------------------------------------------------------------------- dates, times


def _one_row(tmp_path: Path, header: list[str], row: list[Any]) -> SheetMapping:
    make_xlsx(tmp_path / "one.xlsx", header, [row])
    return detect_for(read_table(tmp_path / "one.xlsx"))


@pytest.mark.parametrize("home", [None, "UTC", "Europe/Berlin", "America/Los_Angeles"])
def test_a_date_only_row_stays_on_its_day_in_every_home_zone(tmp_path: Path, home: str) -> None:
    # The original stamped it at home-zone midnight and read it back a day early (F9).
    mapping = _one_row(tmp_path, ["Date", "Type"], [datetime(2025, 8, 10), "Ride"])
    (row,) = parse_sheet(read_table(tmp_path / "one.xlsx"), mapping, home).rows
    activity = row.activity
    assert activity.date_only
    assert activity.start_local == datetime(2025, 8, 10)
    assert activity.start_utc is None
    assert activity.sport is Sport.RIDE


def test_a_time_is_a_wall_clock_in_the_home_zone_and_an_offset_is_kept(tmp_path: Path) -> None:
    path = make_csv(
        tmp_path / "log.csv",
        "Date,Start time,Sport\n"
        "2024-06-01,10:00,Run\n"
        "2024-06-01T10:00:00Z,,Ride\n"
        "2024-06-02 07:15:00+02:00,,Ride\n",
    )
    table = read_table(path)
    mapping = detect_for(table)
    berlin, utc_row, offset_row = (
        r.activity for r in parse_sheet(table, mapping, "Europe/Berlin").rows
    )
    assert berlin.start_utc == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert (berlin.start_local, berlin.timezone, berlin.date_only) == (
        datetime(2024, 6, 1, 10, 0),
        "Europe/Berlin",
        False,
    )
    # An explicit offset is that instant, not re-stamped in the home zone (F23).
    assert utc_row.start_utc == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert utc_row.timezone is None
    assert offset_row.start_utc == datetime(2024, 6, 2, 5, 15, tzinfo=UTC)
    assert offset_row.timezone == "Europe/Berlin"
    # Without a home zone the wall clock is kept and no instant is invented.
    unzoned = parse_sheet(table, mapping, None).rows[0].activity
    assert unzoned.start_utc is None and unzoned.start_local == datetime(2024, 6, 1, 10, 0)


def test_day_month_order_is_proven_by_the_dates_or_asked(tmp_path: Path) -> None:
    proven = make_csv(tmp_path / "eu.csv", "Date,Sport\n03/04/2024,Run\n13/04/2024,Run\n")
    table = read_table(proven)
    mapping = detect_for(table)
    assert mapping.date_order is DateOrder.DMY
    assert [r.activity.start_local for r in parse_sheet(table, mapping, None).rows] == [
        datetime(2024, 4, 3),
        datetime(2024, 4, 13),
    ]
    unsure = make_csv(tmp_path / "unsure.csv", "Date,Sport\n03/04/2024,Run\n")
    table = read_table(unsure)
    mapping = detect_for(table)
    assert open_questions(table, mapping) == [Question.DATE_ORDER]
    parsed = parse_sheet(table, mapping, None)
    assert not parsed.rows and "day/month or month/day" in str(parsed.problems[0])
    american = SheetMapping(mapping.columns, date_order=DateOrder.MDY)
    assert parse_sheet(table, american, None).rows[0].activity.start_local == datetime(2024, 3, 4)


def test_unreadable_rows_are_listed_and_the_rest_is_read(tmp_path: Path) -> None:
    path = make_csv(
        tmp_path / "log.csv",
        "Date,Sport,Distance (km),Time\n"
        "2024-05-01,Run,10,0:50:00\n"
        "someday,Run,10,0:50:00\n"
        "2024-05-03,Run,ten,0:50:00\n"
        ",,,\n"
        "2024-05-04,Run,12,fast\n",
    )
    table = read_table(path)
    parsed = parse_sheet(table, detect_for(table), None)
    assert [r.row for r in parsed.rows] == [2, 4, 6]
    assert parsed.rows[1].activity.distance_m is None
    assert parsed.rows[1].activity.elapsed_s == 3000
    assert [p.row for p in parsed.problems] == [3, 4, 6]
    assert "not a date" in parsed.problems[0].message


# ------------------------------------------------------------------------------ row identity

LOG_HEADER = ["Date", "Type", "Distance (km)", "Time", "Notes", "Bike"]
LOG_ROWS = [
    [datetime(2024, 5, 1), "Bike", 42.5, "1:30:00", "Loop", "Trek"],
    [datetime(2024, 5, 1), "Run", 10, "0:50:00", "Easy", None],
    [datetime(2024, 5, 3), "Run", 12, "1:00:00", "Tempo", None],
    [datetime(2024, 5, 3), "Run", 5, "0:25:00", "Cool-down", None],
]


def _keys_by_note(path: Path) -> dict[str, str]:
    table = read_table(path)
    parsed = parse_sheet(table, detect_for(table), "Europe/Madrid")
    return {str(r.activity.name): r.key for r in parsed.rows}


def test_row_identity_survives_sorting_inserted_rows_and_edits(tmp_path: Path) -> None:
    before = _keys_by_note(make_xlsx(tmp_path / "a.xlsx", LOG_HEADER, LOG_ROWS))
    assert len(set(before.values())) == 4
    # Newest first, a new row on top and one in between, and the notes edited.
    shuffled = [
        [datetime(2024, 5, 9), "Swim", None, "0:40:00", "New", None],
        LOG_ROWS[2],
        LOG_ROWS[3],
        [datetime(2024, 5, 2), "Bike", 20, "0:45:00", "Inserted", None],
        [*LOG_ROWS[1][:5], "Shoes A"],
        LOG_ROWS[0],
    ]
    after = _keys_by_note(make_xlsx(tmp_path / "b.xlsx", LOG_HEADER, shuffled))
    for note, key in before.items():
        assert after[note] == key
    assert after["New"] not in before.values() and after["Inserted"] not in before.values()


def test_a_tracekit_id_column_is_the_identity_whatever_else_changes(tmp_path: Path) -> None:
    header = [*LOG_HEADER, "Tracekit ID"]
    first = _keys_by_note(make_xlsx(tmp_path / "a.xlsx", header, [[*LOG_ROWS[0], "tk-1"]]))
    moved = [datetime(2024, 6, 1), "Gravel", 50, "2:00:00", "Loop", "Trek", "tk-1"]
    assert (
        _keys_by_note(make_xlsx(tmp_path / "b.xlsx", header, [moved]))
        == first
        == {"Loop": "id:tk-1"}
    )


# ------------------------------------------------------------------------------- write-back


def _log(tmp_path: Path) -> Path:
    return make_xlsx(
        tmp_path / "sheets" / "log.xlsx",
        LOG_HEADER,
        LOG_ROWS,
        formats={f"C{row}": "0.00" for row in range(2, 6)},
    )


def test_a_write_keeps_a_backup_formatting_and_other_sheets(tmp_path: Path) -> None:
    path = _log(tmp_path)
    original = path.read_bytes()
    table = read_table(path)
    edit = SheetEdit()
    edit.set(2, 4, "Renamed loop")
    result = write_sheet(table, edit)
    assert result.backup.read_bytes() == original
    assert backups_of(path) == [result.backup]
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Log"]
    assert sheet["E2"].value == "Renamed loop"
    assert sheet["A1"].font.b is True
    assert sheet["C2"].number_format == "0.00"
    assert workbook.sheetnames == ["Log", "Totals"]
    assert workbook["Totals"]["B1"].value == 2024
    assert sorted(p.name for p in path.parent.iterdir()) == ["Tracekit backups", "log.xlsx"]


def test_an_appended_row_looks_like_the_rows_above_and_joins_the_excel_table(
    tmp_path: Path,
) -> None:
    from openpyxl.worksheet.table import Table

    path = _log(tmp_path)
    workbook = openpyxl.load_workbook(path)
    workbook["Log"].add_table(Table(displayName="Log", ref="A1:F5"))
    workbook.save(path)
    table = read_table(path)
    result = write_sheet(
        table, SheetEdit(appended=[{0: (datetime(2024, 5, 5), None), 2: (7.5, None)}])
    )
    assert result.appended_rows == (6,)
    sheet = openpyxl.load_workbook(path)["Log"]
    assert sheet["A6"].value == datetime(2024, 5, 5) and sheet["C6"].value == 7.5
    assert sheet["C6"].number_format == "0.00"  # like C5 above
    assert sheet.tables["Log"].ref == "A1:F6"


def test_a_sheet_open_in_excel_or_libreoffice_is_refused_and_left_unchanged(
    tmp_path: Path,
) -> None:
    path = _log(tmp_path)
    original = path.read_bytes()
    table = read_table(path)
    edit = SheetEdit()
    edit.set(2, 4, "Renamed")
    for lock, program in (
        (path.with_name("~$log.xlsx"), "Excel"),
        (path.with_name(".~lock.log.xlsx#"), "LibreOffice"),
    ):
        lock.write_bytes(b"owner")
        with pytest.raises(SheetLocked, match=f"open in {program}.*Nothing was changed"):
            write_sheet(table, edit)
        lock.unlink()
        assert path.read_bytes() == original
    assert backups_of(path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["log.xlsx"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX record locks")
def test_a_sheet_locked_by_another_process_is_refused_and_left_unchanged(
    tmp_path: Path,
) -> None:
    path = _log(tmp_path)
    original = path.read_bytes()
    table = read_table(path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys\n"
            f"f = open({str(path)!r}, 'r+b')\n"
            "fcntl.lockf(f.fileno(), fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        edit = SheetEdit()
        edit.set(2, 4, "Renamed")
        with pytest.raises(SheetLocked, match="open in another program"):
            write_sheet(table, edit)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert path.read_bytes() == original
    write_sheet(table, edit)  # released: the same write goes through
    assert openpyxl.load_workbook(path)["Log"]["E2"].value == "Renamed"


def test_a_replace_refused_by_windows_for_an_open_file_is_reported_as_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On Windows the write itself succeeds and only the final replace fails while Excel
    # holds the file; Linux has no such sharing violation, so the OS call is made to refuse.
    path = _log(tmp_path)
    original = path.read_bytes()
    table = read_table(path)

    def sharing_violation(self: Path, target: Path) -> Path:
        raise PermissionError(13, "The process cannot access the file", str(target))

    monkeypatch.setattr(Path, "replace", sharing_violation)
    edit = SheetEdit()
    edit.set(2, 4, "Renamed")
    with pytest.raises(SheetLocked, match="Nothing was changed"):
        write_sheet(table, edit)
    assert path.read_bytes() == original
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".~tracekit")]


def test_a_sheet_edited_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = _log(tmp_path)
    table = read_table(path)
    workbook = openpyxl.load_workbook(path)
    workbook["Log"]["E3"] = "typed by the user meanwhile"
    workbook.save(path)
    edited = path.read_bytes()
    edit = SheetEdit()
    edit.set(2, 4, "Renamed")
    with pytest.raises(SheetChanged, match="apply it again"):
        write_sheet(table, edit)
    assert path.read_bytes() == edited


def test_a_workbook_whose_drawings_would_be_lost_is_not_written(tmp_path: Path) -> None:
    path = _log(tmp_path)
    shape = (
        b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
        b'spreadsheetDrawing"><xdr:twoCellAnchor><xdr:sp><xdr:nvSpPr/></xdr:sp>'
        b"</xdr:twoCellAnchor></xdr:wsDr>"
    )
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/drawings/drawing1.xml", shape)
    original = path.read_bytes()
    table = read_table(path)
    edit = SheetEdit()
    edit.set(2, 4, "Renamed")
    with pytest.raises(SheetWriteRefused, match="lose its shapes"):
        write_sheet(table, edit)
    assert path.read_bytes() == original
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".~tracekit")]


def test_a_csv_keeps_its_delimiter_decimal_comma_line_endings_and_encoding(
    tmp_path: Path,
) -> None:
    text = (
        "Datum;Sport;Distance (km);Time;Notes\r\n"
        "01.05.2024;Rad;42,5;1:30:00;Runde über den Berg\r\n"
        "02.05.2024;Run;10,25;0:50:00;Locker\r\n"
    )
    path = make_csv(tmp_path / "log.csv", text, encoding="utf-8-sig")
    table = read_table(path)
    mapping = detect_for(table).with_column(F.DATE, "Datum")
    rows = parse_sheet(table, mapping, None).rows
    assert [r.activity.distance_m for r in rows] == [42_500, 10_250]
    assert rows[0].activity.start_local == datetime(2024, 5, 1)
    edit = SheetEdit(appended=[{0: ("03.05.2024", None), 2: ("7,5", None)}])
    edit.set(3, 4, "Locker, mit Freunden")
    write_sheet(table, edit)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == (
        "Datum;Sport;Distance (km);Time;Notes\r\n"
        "01.05.2024;Rad;42,5;1:30:00;Runde über den Berg\r\n"
        "02.05.2024;Run;10,25;0:50:00;Locker, mit Freunden\r\n"
        "03.05.2024;;7,5;;\r\n"
    )
    (path.with_name(".~lock.log.csv#")).write_text("x")
    with pytest.raises(SheetLocked):
        write_sheet(read_table(path), edit)
    assert path.read_bytes() == data


def test_files_that_are_not_logs_get_a_clear_reason(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"save this one as \.xlsx"):
        read_table(make_csv(tmp_path / "old.xls", "x"))
    with pytest.raises(SheetError, match="no such file"):
        read_table(tmp_path / "gone.xlsx")
    with pytest.raises(SheetError, match=r"not a readable \.xlsx"):
        read_table(make_csv(tmp_path / "fake.xlsx", "not a workbook"))
    with pytest.raises(SheetError, match="no sheet 'Runs'"):
        read_table(_log(tmp_path), sheet="Runs")
