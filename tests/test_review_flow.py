"""The everyday flow through the CLI against a fake intervals.icu: import, sync, review,
apply exactly what was approved, read the journal, undo."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import gpx_bytes, write
from tests.fakes.cli import cli, stdin
from tests.fakes.intervals_server import IntervalsFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tests.test_intervalsicu import KEY, icu_activity

START = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[IntervalsFake]:
    with IntervalsFake() as server:
        monkeypatch.setenv("TRACEKIT_INTERVALSICU_URL", server.url)
        server.seed(
            api_keys=[KEY],
            athlete_id="i4242",
            activities=[
                icu_activity(
                    "i900",
                    START,
                    name="Afternoon Run",
                    type="Run",
                    distance=1600.0,
                    moving_time=590,
                    elapsed_time=590,
                )
            ],
        )
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


def _writes(fake: IntervalsFake) -> list[dict[str, object]]:
    return [r for r in fake.requests() if r["method"] not in ("GET", "HEAD")]


def _json_out(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert cli(*argv) == 0
    return json.loads(capsys.readouterr().out)


def test_review_then_apply_exactly_the_approved_rename_then_undo_it(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = str(db_path)
    monkeypatch.setattr("sys.stdin", stdin(KEY))
    assert cli("--db", db, "connect", "intervalsicu", "--api-key-stdin") == 0
    run = write(tmp_path / "run.gpx", gpx_bytes(START, name="Hill repeats"))
    assert cli("--db", db, "import", str(run)) == 0
    assert cli("--db", db, "sync") == 0

    review = _json_out(capsys, "--db", db, "review", "2026-03", "--json")
    assert isinstance(review, dict)
    (session,) = review["activities"]
    assert {r["provider"] for r in session["records"]} == {"file", "intervalsicu"}
    (rename,) = [c for c in session["changes"] if c["kind"] == "rename"]
    assert (rename["old_value"], rename["new_value"]) == ("Afternoon Run", "Hill repeats")
    assert _writes(fake) == []  # connecting, syncing and reviewing wrote nothing

    assert cli("--db", db, "apply", rename["id"]) == 1  # not a terminal and no --yes: refused
    assert _writes(fake) == []
    assert cli("--db", db, "apply", rename["id"], "--yes") == 0
    (write_request,) = _writes(fake)
    assert write_request["method"] == "PUT" and "i900" in str(write_request["path"])
    assert fake.activities["i900"]["name"] == "Hill repeats"

    journal = _json_out(capsys, "--db", db, "journal", "--json")
    assert isinstance(journal, list)
    (entry,) = journal
    assert (entry["state"], entry["old_value"], entry["undoable"]) == (
        "done",
        "Afternoon Run",
        True,
    )
    again = _json_out(capsys, "--db", db, "review", "2026-03", "--json")
    assert isinstance(again, dict) and again["activities"][0]["changes"] == []

    capsys.readouterr()
    assert cli("--db", db, "undo", str(entry["id"]), "--yes") == 0
    assert "and it will not be proposed again" in capsys.readouterr().out
    assert fake.activities["i900"]["name"] == "Afternoon Run"
    assert len(_writes(fake)) == 2
    undone = _json_out(capsys, "--db", db, "review", "2026-03", "--json")
    assert isinstance(undone, dict)
    (session,) = undone["activities"]
    assert "rename" not in {c["kind"] for c in session["changes"]}
    assert [c["id"] for c in session["dismissed"]] == [rename["id"]]


def test_a_failed_write_is_reported_as_failed_and_journaled(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = str(db_path)
    monkeypatch.setattr("sys.stdin", stdin(KEY))
    cli("--db", db, "connect", "intervalsicu", "--api-key-stdin")
    cli("--db", db, "import", str(write(tmp_path / "r.gpx", gpx_bytes(START, name="Tempo"))))
    cli("--db", db, "sync")
    review = _json_out(capsys, "--db", db, "review", "2026-03", "--json")
    assert isinstance(review, dict)
    change_id = review["activities"][0]["changes"][0]["id"]
    fake.fail_next(status=500, method="PUT", times=3)
    outcomes = None
    capsys.readouterr()
    assert cli("--db", db, "apply", change_id, "--yes", "--json") == 1
    outcomes = json.loads(capsys.readouterr().out)
    assert outcomes[0]["status"] == "failed"
    assert "intervals.icu" in outcomes[0]["message"]
    journal = _json_out(capsys, "--db", db, "journal", "--json")
    assert isinstance(journal, list) and journal[0]["state"] == "failed"
    assert fake.activities["i900"]["name"] == "Afternoon Run"


def test_sync_month_pulls_reviews_and_applies_only_with_consent(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = str(db_path)
    monkeypatch.setattr("sys.stdin", stdin(KEY))
    cli("--db", db, "connect", "intervalsicu", "--api-key-stdin")
    cli("--db", db, "import", str(write(tmp_path / "r.gpx", gpx_bytes(START, name="Tempo"))))
    capsys.readouterr()
    assert cli("--db", db, "sync-month", "2026-03") == 0  # no terminal, no --yes: review only
    out = capsys.readouterr().out
    assert "Afternoon Run" in out and "Tempo" in out and "nothing applied" in out
    assert _writes(fake) == []
    assert cli("--db", db, "sync-month", "2026-03", "--yes") == 0
    assert fake.activities["i900"]["name"] == "Tempo"
    assert len(_writes(fake)) == 1
