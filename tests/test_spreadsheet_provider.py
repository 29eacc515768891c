"""The training log as a provider: pulls that update instead of duplicating, hard links through
id columns, approved writes back into the file, and `tracekit sheet`."""

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from sqlalchemy import func, select

from tests.test_spreadsheet import LOG_HEADER, LOG_ROWS, make_csv, make_xlsx
from tracekit.cli import sheet_cmd
from tracekit.cli.context import CliContext
from tracekit.exports.records import Incoming, Upserted, existing_records, upsert_record
from tracekit.linking import rematch
from tracekit.providers.base import Capability, NewEntry, ProviderError, RemoteActivity
from tracekit.providers.names import ProviderName
from tracekit.providers.spreadsheet import SheetBusy, SpreadsheetProvider
from tracekit.sports import Sport
from tracekit.spreadsheet.config import SheetConfig, detect_for, load_sheet_config
from tracekit.spreadsheet.mapping import DistanceUnit, SheetField
from tracekit.spreadsheet.store import adopt_row_ids
from tracekit.spreadsheet.table import read_table
from tracekit.spreadsheet.writer import backups_of
from tracekit.store.engine import Database
from tracekit.store.models import ProviderRecord

HOME = "Europe/Madrid"
HEADER = [*LOG_HEADER, "Strava"]
ROWS = [[*row, None] for row in LOG_ROWS]


def provider_for(path: Path, home: str | None = HOME) -> SpreadsheetProvider:
    table = read_table(path)
    return SpreadsheetProvider(
        SheetConfig(path, table.sheet, table.header_row, detect_for(table)), home
    )


def store(
    db: Database, provider_name: ProviderName, activities: list[RemoteActivity]
) -> dict[Upserted, int]:
    """What the sync engine does with a pull: upsert by provider id."""
    counts = dict.fromkeys(Upserted, 0)
    now = datetime.now(UTC)
    with db.session() as session:
        known = existing_records(session, provider_name, (a.provider_id for a in activities))
        for activity in activities:
            _, outcome = upsert_record(
                session, provider_name, Incoming(activity), now, known.get(activity.provider_id)
            )
            counts[outcome] += 1
    return counts


def record_count(db: Database, provider_name: ProviderName) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ProviderRecord)
                .where(ProviderRecord.provider == provider_name)
            )
            or 0
        )


def test_re_pulling_an_edited_sorted_sheet_updates_records_instead_of_adding_them(
    db: Database, tmp_path: Path
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", HEADER, ROWS)
    provider = provider_for(path)
    first = list(provider.pull(None, None))
    assert store(db, ProviderName.SPREADSHEET, first)[Upserted.CREATED] == 4
    # The user sorts newest first (a stable sort, as spreadsheets sort), adds a row on top and
    # fixes a distance.
    edited = [[datetime(2024, 5, 9), "Swim", 2, "0:40:00", "Pool", None, None], ROWS[2], ROWS[3]]
    edited += [ROWS[0], [*ROWS[1][:2], 10.5, *ROWS[1][3:]]]
    make_xlsx(path, HEADER, edited)
    counts = store(db, ProviderName.SPREADSHEET, list(provider.pull(None, None)))
    assert counts == {Upserted.CREATED: 1, Upserted.UPDATED: 1, Upserted.UNCHANGED: 3}
    assert record_count(db, ProviderName.SPREADSHEET) == 5
    with db.session() as session:
        easy = session.scalars(select(ProviderRecord).where(ProviderRecord.name == "Easy")).one()
        assert easy.distance_m == 10_500
        assert easy.date_only and easy.start_utc is None
        assert easy.activity is not None and easy.activity.local_date.isoformat() == "2024-05-01"
    # Swapping two runs of one day by hand swaps which record holds which row: updates still,
    # never a duplicate (a Tracekit ID column makes even that exact).
    make_xlsx(path, HEADER, [edited[0], ROWS[3], ROWS[2], *edited[3:]])
    counts = store(db, ProviderName.SPREADSHEET, list(provider.pull(None, None)))
    assert counts[Upserted.CREATED] == 0
    assert record_count(db, ProviderName.SPREADSHEET) == 5


def test_the_sync_engine_pulls_the_sheet_like_any_provider(db: Database, tmp_path: Path) -> None:
    from tracekit.sync import sync_provider

    path = make_xlsx(tmp_path / "log.xlsx", HEADER, ROWS)
    provider = provider_for(path)
    first = sync_provider(db, provider)
    assert (first.new, first.failed) == (4, False)
    make_xlsx(path, HEADER, [[*ROWS[0][:4], "Loop in the rain", *ROWS[0][5:]], *ROWS[1:]])
    again = sync_provider(db, provider)  # an edit to an old row is seen without forcing
    assert (again.new, again.updated, again.unchanged) == (0, 1, 3)
    with db.session() as session:
        names = session.scalars(
            select(ProviderRecord.name).where(ProviderRecord.provider == ProviderName.SPREADSHEET)
        )
        assert "Loop in the rain" in set(names)


def test_a_strava_id_in_the_sheet_links_the_row_to_that_strava_activity(
    db: Database, tmp_path: Path
) -> None:
    rows = [row[:] for row in ROWS]
    rows[2][6] = "https://www.strava.com/activities/987654321"
    path = make_xlsx(tmp_path / "log.xlsx", HEADER, rows)
    store(db, ProviderName.SPREADSHEET, list(provider_for(path).pull(None, None)))
    # Strava's copy starts in the evening and is much longer: only the id can tie them.
    strava = RemoteActivity(
        provider_id="987654321",
        start_utc=datetime(2024, 5, 3, 17, 0, tzinfo=UTC),
        sport=Sport.RUN,
        elapsed_s=7200,
        distance_m=21_000,
    )
    store(db, ProviderName.STRAVA, [strava])
    rematch(db)
    with db.session() as session:
        records = {
            r.provider: r
            for r in session.scalars(
                select(ProviderRecord).where(
                    ProviderRecord.name.in_(["Tempo"])
                    | (ProviderRecord.provider == ProviderName.STRAVA)
                )
            )
        }
        tempo, on_strava = records[ProviderName.SPREADSHEET], records[ProviderName.STRAVA]
        assert tempo.evidence == ["strava:987654321"]
        assert tempo.activity_id == on_strava.activity_id
        assert tempo.link_explanation is not None
        assert tempo.link_explanation["reason"] == "evidence"


def test_approved_rename_notes_and_gear_are_written_to_the_file_with_a_backup(
    tmp_path: Path,
) -> None:
    header = ["Date", "Type", "Distance (km)", "Time", "Title", "Notes", "Bike"]
    rows = [[datetime(2024, 5, 1), "Bike", 42.5, "1:30:00", "Loop", "windy", "Trek"]]
    path = make_xlsx(tmp_path / "log.xlsx", header, rows)
    provider = provider_for(path)
    assert provider.capabilities == {
        Capability.READ,
        Capability.RENAME,
        Capability.SET_DESCRIPTION,
        Capability.SET_GEAR,
        Capability.ADD_ENTRY,
    }
    (row,) = provider.pull(None, None)
    provider.rename(row.provider_id, "Coast loop")
    provider.set_description(row.provider_id, "windy, then rain")
    provider.set_gear(row.provider_id, "Canyon Grail")
    fresh = provider.fetch(row.provider_id)
    assert (fresh.name, fresh.description, fresh.gear_id) == (
        "Coast loop",
        "windy, then rain",
        "Canyon Grail",
    )
    assert len(backups_of(path)) == 3
    sheet = openpyxl.load_workbook(path)["Log"]
    assert [c.value for c in sheet[2]][4:] == ["Coast loop", "windy, then rain", "Canyon Grail"]
    assert sheet["A1"].font.b and openpyxl.load_workbook(path).sheetnames == ["Log", "Totals"]
    provider.set_gear(row.provider_id, None)
    assert provider.fetch(row.provider_id).gear_id is None
    assert [g.name for g in provider.gear()] == []


def test_without_a_name_column_the_notes_are_the_name_and_gear_cannot_be_set(
    tmp_path: Path,
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", ["Date", "Notes"], [[datetime(2024, 5, 1), "Loop"]])
    provider = provider_for(path)
    assert provider.capabilities == {Capability.READ, Capability.RENAME, Capability.ADD_ENTRY}
    (row,) = provider.pull(None, None)
    assert row.name == "Loop" and row.description is None
    provider.rename(row.provider_id, "Hill loop")
    assert openpyxl.load_workbook(path)["Log"]["B2"].value == "Hill loop"
    with pytest.raises(ProviderError, match="Training log: cannot set gear"):
        provider.set_gear(row.provider_id, "Trek")


def test_a_missing_session_is_added_as_a_row_in_the_sheets_own_style(tmp_path: Path) -> None:
    rows = [row[:] for row in ROWS]
    rows[0][6] = "https://www.strava.com/activities/111"
    path = make_xlsx(tmp_path / "log.xlsx", HEADER, rows)
    provider = provider_for(path)
    entry = NewEntry(
        sport=Sport.RIDE,
        start_utc=datetime(2024, 5, 4, 16, 30, tzinfo=UTC),
        timezone="Europe/Madrid",
        elapsed_s=5025,
        distance_m=31_234,
        name="After-work spin",
        gear_name="Trek",
        evidence=frozenset({"strava:222", "garmin:333"}),
    )
    added = provider.add_entry(entry)
    assert not added.duplicate
    sheet = openpyxl.load_workbook(path)["Log"]
    assert [c.value for c in sheet[6]] == [
        datetime(2024, 5, 4),  # the log keeps dates; the local date in Madrid
        "Bike",  # the sheet's word for a ride
        31.23,
        "1:23:45",
        "After-work spin",
        "Trek",
        "https://www.strava.com/activities/222",
    ]
    back = provider.fetch(added.provider_id)
    assert back.evidence == {"strava:222"} and back.date_only
    # Applying the same change again (a retry after a crash) adds nothing.
    again = provider.add_entry(entry)
    assert again.duplicate and again.provider_id == added.provider_id
    assert openpyxl.load_workbook(path)["Log"].max_row == 6


def test_adding_row_ids_keeps_the_stored_records_and_then_survives_date_edits(
    db: Database, tmp_path: Path
) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", HEADER, ROWS)
    provider = provider_for(path)
    store(db, ProviderName.SPREADSHEET, list(provider.pull(None, None)))
    config, renames = provider.add_row_ids()
    assert config.mapping.header(SheetField.ROW_ID) == "Tracekit ID"
    with db.session() as session:
        assert adopt_row_ids(session, renames) == 4
    pulled = list(provider.pull(None, None))
    assert all(a.provider_id.startswith("id:tk-") for a in pulled)
    assert store(db, ProviderName.SPREADSHEET, pulled) == {
        Upserted.CREATED: 0,
        Upserted.UPDATED: 0,
        Upserted.UNCHANGED: 4,
    }
    workbook = openpyxl.load_workbook(path)
    workbook["Log"]["A2"] = datetime(2024, 4, 30)  # the ride moved a day: same row, same id
    workbook.save(path)
    counts = store(db, ProviderName.SPREADSHEET, list(provider.pull(None, None)))
    assert counts[Upserted.CREATED] == 0 and counts[Upserted.UPDATED] == 1
    assert record_count(db, ProviderName.SPREADSHEET) == 4


def test_a_locked_sheet_fails_the_change_clearly_and_stays_as_it_was(tmp_path: Path) -> None:
    path = make_csv(tmp_path / "log.csv", "Date,Type,Notes\n2024-05-01,Run,Easy\n")
    provider = provider_for(path)
    (row,) = provider.pull(None, None)
    path.with_name("~$log.csv").write_text("owner")
    with pytest.raises(SheetBusy, match=r"Training log: log\.csv is open in Excel"):
        provider.rename(row.provider_id, "Hard")
    assert path.read_text() == "Date,Type,Notes\n2024-05-01,Run,Easy\n"
    with pytest.raises(ProviderError, match="no row row:2024-05-09"):
        provider.fetch("row:2024-05-09/run/1")


def test_pull_returns_the_window_asked_for(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "log.xlsx", HEADER, ROWS)
    provider = provider_for(path)
    may3 = list(
        provider.pull(datetime(2024, 5, 2, 12, tzinfo=UTC), datetime(2024, 5, 4, tzinfo=UTC))
    )
    assert sorted(str(a.name) for a in may3) == ["Cool-down", "Tempo"]


# ----------------------------------------------------------------------------------- the CLI


def sheet(context: CliContext, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tracekit")
    sheet_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sheet", *argv])
    code: int = args.handler(args, context)
    return code


@pytest.fixture
def context(db_path: Path) -> Iterator[CliContext]:
    cli = CliContext(db_path, console=Console(width=200), err=Console(stderr=True, width=200))
    yield cli
    cli.close()


def test_connect_needs_the_unit_then_stores_the_mapping_and_show_prints_it(
    context: CliContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_xlsx(
        tmp_path / "log.xlsx",
        ["Date", "Sport", "Distance", "Time", "Notes"],
        [[datetime(2024, 5, 1), "Run", 10, "0:50:00", "Easy"]],
    )
    assert sheet(context, "connect", str(path), "--yes") == 2
    err = capsys.readouterr().err
    assert "km or mi" in err and "--units km or --units mi" in err
    with context.db.session() as session:
        assert load_sheet_config(session) is None
    assert sheet(context, "connect", str(path), "--units", "mi") == 2  # no terminal, no --yes
    assert "Nothing saved" in capsys.readouterr().err
    assert sheet(context, "connect", str(path), "--units", "mi", "--yes") == 0
    out = capsys.readouterr().out
    assert "Distance" in out and "distance in mi" in out and "16.09 km" in out
    with context.db.session() as session:
        config = load_sheet_config(session)
    assert config is not None and config.path == path
    assert config.mapping.distance_unit is DistanceUnit.MI
    assert config.mapping.header(SheetField.DURATION) == "Time"
    assert sheet(context, "show") == 0
    assert "Notes" in capsys.readouterr().out
    with context.db.session() as session:
        provider = SpreadsheetProvider.from_settings(session)
    assert provider is not None
    assert [a.distance_m for a in provider.pull(None, None)] == [pytest.approx(16_093.44)]
    assert sheet(context, "disconnect") == 0
    assert sheet(context, "show") == 1


def test_connect_refuses_a_unit_that_contradicts_the_header_and_takes_column_edits(
    context: CliContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_xlsx(
        tmp_path / "log.xlsx",
        ["When", "Sport", "Distance (mi)", "Comments", "Ride name"],
        [[datetime(2024, 5, 1), "Run", 10, "Easy", "Park"]],
    )
    assert sheet(context, "connect", str(path), "--units", "km", "--yes") == 2
    assert "says mi, but km was chosen" in capsys.readouterr().err
    assert (
        sheet(
            context, "connect", str(path), "--column", "name=Ride name", "--yes", "--add-id-column"
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Added a 'Tracekit ID' column (1 rows" in out
    with context.db.session() as session:
        config = load_sheet_config(session)
    assert config is not None
    assert config.mapping.header(SheetField.NAME) == "Ride name"
    assert config.mapping.header(SheetField.ROW_ID) == "Tracekit ID"
    assert openpyxl.load_workbook(path)["Log"]["F1"].value == "Tracekit ID"


def test_an_approved_add_writes_a_row_for_the_missing_session_and_links_it(
    db: Database, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from tests.fakes import add_activity, record
    from tracekit.apply import OutcomeStatus, apply
    from tracekit.changes import ChangeKind
    from tracekit.proposals import propose
    from tracekit.settings import Settings

    path = make_xlsx(tmp_path / "log.xlsx", HEADER, ROWS)
    provider = provider_for(path)
    start = datetime(2024, 5, 7, 6, 30, tzinfo=UTC)
    with db.session() as session:
        activity_id = add_activity(
            session,
            record(
                ProviderName.GARMIN,
                "g77",
                start_utc=start,
                name="Hill repeats",
                distance_m=21_000.0,
                elapsed_s=3_900.0,
            ),
        ).id
    capabilities = {ProviderName.SPREADSHEET: provider.capabilities}
    with db.session() as session:
        changes = propose(session, [activity_id], Settings(), capabilities)
    (add,) = [c for c in changes if c.kind is ChangeKind.ADD_TO_PROVIDER]
    assert add.provider is ProviderName.SPREADSHEET and add.new_value == "Hill repeats"
    (outcome,) = apply(db, [add.id], {ProviderName.SPREADSHEET: provider}, Settings())
    assert outcome.status is OutcomeStatus.DONE, outcome.message
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == len(ROWS) + 2  # header, the old rows, the new one
    assert "Hill repeats" in rows[-1] and 21.0 in rows[-1]
    with db.session() as session:
        providers = {
            r.provider
            for r in session.scalars(select(ProviderRecord))
            if r.activity_id == activity_id
        }
    assert providers == {ProviderName.GARMIN, ProviderName.SPREADSHEET}
    with db.session() as session:  # once it is there, nothing more is proposed
        again = propose(session, [activity_id], Settings(), capabilities)
    assert not [c for c in again if c.kind is ChangeKind.ADD_TO_PROVIDER]


def test_tracekit_connect_sheet_is_the_same_flow_through_the_real_entry_point(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tracekit.cli.main import main

    path = make_xlsx(tmp_path / "log.xlsx", LOG_HEADER, LOG_ROWS)
    assert main(["--db", str(db_path), "connect", "sheet", str(path), "--yes"]) == 0
    assert main(["--db", str(db_path), "sheet", "show"]) == 0
    assert "Distance (km)" in capsys.readouterr().out
    assert main(["--db", str(db_path), "disconnect", "sheet"]) == 0
