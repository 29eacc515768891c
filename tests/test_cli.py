"""Each command through its real entry points (`python -m tracekit` and the `tracekit` script)."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import gpx_bytes, write

SCRIPT = Path(sys.executable).with_name("tracekit")


def run(*args: str | Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "tracekit"]
    return subprocess.run(
        [*command, *map(str, args)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def test_import_json_lists_imported_duplicates_and_failures_and_exits_1(
    tmp_path: Path, db_path: Path
) -> None:
    good = write(tmp_path / "in" / "run.gpx", gpx_bytes(datetime(2026, 6, 1, 6, 0, tzinfo=UTC)))
    copy = write(tmp_path / "in" / "run-copy.gpx", good.read_bytes())
    broken = write(tmp_path / "in" / "broken.tcx", b"<TrainingCenterDatabase><Activities>")
    result = run("--db", db_path, "import", "--json", good, copy, broken)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    (imported,) = report["imported"]
    assert imported["file"] == str(good)
    assert imported["start_utc"] == "2026-06-01T06:00:00+00:00"
    assert imported["sport"] == "run"
    assert imported["distance_m"] > 1000 and imported["elapsed_s"] == 590
    assert {"activity_id", "file"} <= set(report["duplicates"][0])
    assert report["duplicates"][0]["activity_id"] == imported["activity_id"]
    assert report["failed"] == [{"file": str(broken), "error": report["failed"][0]["error"]}]
    assert "XML" in report["failed"][0]["error"]


def test_import_exits_0_when_nothing_failed_and_prints_a_summary(
    tmp_path: Path, db_path: Path
) -> None:
    good = write(tmp_path / "run.gpx", gpx_bytes(datetime(2026, 6, 1, 6, 0, tzinfo=UTC)))
    result = run("--db", db_path, "import", good, script=True)
    assert result.returncode == 0, result.stderr
    assert "1 imported, 0 duplicates, 0 failed" in result.stdout


def test_calendar_puts_a_late_run_in_tokyo_on_its_tokyo_date(tmp_path: Path, db_path: Path) -> None:
    # 16:00 UTC on 30 April is 01:00 on 1 May in Tokyo: a May activity.
    tokyo = gpx_bytes(datetime(2026, 4, 30, 16, 0, tzinfo=UTC), lat=35.68, lon=139.76)
    assert run("--db", db_path, "import", write(tmp_path / "tokyo.gpx", tokyo)).returncode == 0
    result = run("--db", db_path, "calendar", "2026-05", "--months", "2", "--json")
    assert result.returncode == 0, result.stderr
    months = json.loads(result.stdout)
    assert set(months) == {"2026-04", "2026-05"}
    assert months["2026-04"]["days"] == {}
    (entry,) = months["2026-05"]["days"]["2026-05-01"]
    assert entry["start_local"] == "2026-05-01T01:00:00"
    assert entry["providers"] == ["file"]
    assert set(entry) >= {"activity_id", "name", "sport", "distance_m", "elapsed_s"}
    assert months["2026-05"]["totals"]["count"] == 1
    grid = run("--db", db_path, "calendar", "2026-05")
    assert "May 2026" in grid.stdout and "01:00 run" in grid.stdout


def test_status_names_the_database_schema_and_counts(tmp_path: Path, db_path: Path) -> None:
    run("--db", db_path, "import", write(tmp_path / "a.gpx", gpx_bytes(datetime.now(UTC))))
    result = run("--db", db_path, "status", "--json")
    status = json.loads(result.stdout)
    assert status["database"] == str(db_path.resolve())
    assert status["schema_revision"]
    assert status["providers"]["file"]["records"] == 1
    text = run("--db", db_path, "status").stdout
    assert str(db_path.resolve()) in text.replace("\n", "")


def test_tracekit_db_environment_variable_chooses_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere" / "mine.sqlite3"
    monkeypatch.setenv("TRACEKIT_DB", str(target))
    result = run("status", "--json")
    assert json.loads(result.stdout)["database"] == str(target.resolve())
    assert target.exists()


def test_demo_fills_its_own_database_and_never_the_users(isolated_data_dir: Path) -> None:
    result = run("demo", "--months", "2")
    assert result.returncode == 0, result.stderr
    demo_db = isolated_data_dir / "demo" / "tracekit-demo.sqlite3"
    assert demo_db.exists()
    assert not (isolated_data_dir / "tracekit.sqlite3").exists()
    status = json.loads(run("--db", demo_db, "status", "--json").stdout)
    providers = status["providers"]
    assert {"garmin", "strava", "intervalsicu", "spreadsheet"} <= set(providers)
    assert providers["file"]["records"] > 0  # the newest month's generated FIT/GPX files
    assert status["activities"] > 20
    calendar = json.loads(run("--db", demo_db, "calendar", "--months", "2", "--json").stdout)
    entries = [e for month in calendar.values() for day in month["days"].values() for e in day]
    assert any(len(e["providers"]) >= 4 for e in entries)
    assert any("file" in e["providers"] for e in entries)


def test_import_links_the_same_ride_from_two_files_and_unlink_link_undo_that(
    tmp_path: Path, db_path: Path
) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    watch = write(tmp_path / "watch.gpx", gpx_bytes(start, name="Watch"))
    phone = write(tmp_path / "phone.gpx", gpx_bytes(start, name="Phone", points=59))
    report = json.loads(run("--db", db_path, "import", "--json", watch, phone).stdout)
    ids = {item["file"]: item["record_id"] for item in report["imported"]}

    def providers_per_day() -> list[list[str]]:
        months = json.loads(run("--db", db_path, "calendar", "2026-06", "--json").stdout)
        return [e["providers"] for e in months["2026-06"]["days"]["2026-06-01"]]

    assert providers_per_day() == [["file"]]  # one session, two file records
    assert run("--db", db_path, "unlink", str(ids[str(phone)])).returncode == 0
    assert providers_per_day() == [["file"], ["file"]]
    result = run("--db", db_path, "link", str(ids[str(watch)]), str(ids[str(phone)]))
    assert result.returncode == 0, result.stderr
    assert providers_per_day() == [["file"]]
    missing = run("--db", db_path, "link", "strava:999", str(ids[str(watch)]))
    assert missing.returncode == 2 and "no such record: strava:999" in missing.stderr


def test_import_recognises_a_strava_export_and_links_its_files(
    tmp_path: Path, db_path: Path
) -> None:
    from tests.test_exports import rides
    from tracekit.exports.writers import write_strava_export

    export = write_strava_export(tmp_path / "export_12345.zip", rides(3), bikes=["Grey bike"])
    result = run("--db", db_path, "import", "--json", export)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["imported"]) == 3
    status = json.loads(run("--db", db_path, "status", "--json").stdout)
    assert status["providers"]["strava"]["records"] == 3
    assert status["providers"]["file"]["records"] == 3
    assert status["activities"] == 3  # each Strava record linked to its original file


def test_the_demo_lets_a_new_user_review_apply_and_undo_without_an_account(
    isolated_data_dir: Path,
) -> None:
    assert run("demo", "--months", "1").returncode == 0
    demo_db = isolated_data_dir / "demo" / "tracekit-demo.sqlite3"
    review = json.loads(run("--db", demo_db, "review", "--json").stdout)
    renames = [c for a in review["activities"] for c in a["changes"] if c["kind"] == "rename"]
    assert renames, "the demo's disagreements become proposals"
    change = renames[0]
    applied = run("--db", demo_db, "apply", change["id"], "--yes", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)[0]["status"] == "done"
    journal = json.loads(run("--db", demo_db, "journal", "--json").stdout)
    assert journal[0]["new_value"] == change["new_value"] and journal[0]["undoable"]
    assert run("--db", demo_db, "undo", str(journal[0]["id"]), "--yes").returncode == 0


def test_dismiss_leaves_a_change_out_of_review_until_restore(isolated_data_dir: Path) -> None:
    assert run("demo", "--months", "1").returncode == 0
    demo_db = isolated_data_dir / "demo" / "tracekit-demo.sqlite3"
    review = json.loads(run("--db", demo_db, "review", "--json").stdout)
    change = next(c for a in review["activities"] for c in a["changes"] if c["kind"] == "rename")

    refused = run("--db", demo_db, "dismiss", change["id"], "Morning-Ride")
    assert refused.returncode == 1
    assert "Morning-Ride: not a change id" in refused.stderr
    assert "Nothing dismissed" in refused.stderr
    dismissed = run("--db", demo_db, "dismiss", change["id"], script=True)
    assert dismissed.returncode == 0, dismissed.stderr
    assert change["id"] in dismissed.stdout and "will not be proposed again" in dismissed.stdout

    after = json.loads(run("--db", demo_db, "review", "--json").stdout)
    assert change["id"] not in {c["id"] for a in after["activities"] for c in a["changes"]}
    assert [c["id"] for a in after["activities"] for c in a["dismissed"]] == [change["id"]]
    assert "1 dismissed change hidden" in run("--db", demo_db, "review").stdout
    listed = run("--db", demo_db, "review", "--dismissed").stdout
    assert change["id"] in listed and "dismiss --restore" in listed
    applied = run("--db", demo_db, "apply", change["id"], "--yes", "--json")
    assert json.loads(applied.stdout)[0]["status"] == "skipped"
    assert json.loads(run("--db", demo_db, "journal", "--json").stdout) == []

    restored = run("--db", demo_db, "dismiss", "--restore", change["id"])
    assert restored.returncode == 0, restored.stderr
    assert "will be proposed again" in restored.stdout
    again = json.loads(run("--db", demo_db, "review", "--json").stdout)
    assert change in [c for a in again["activities"] for c in a["changes"]]
    assert all(a["dismissed"] == [] for a in again["activities"])
    not_dismissed = run("--db", demo_db, "dismiss", "--restore", change["id"])
    assert not_dismissed.returncode == 1 and "not dismissed" in not_dismissed.stderr
