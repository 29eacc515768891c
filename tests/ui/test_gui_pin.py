"""Pinning from the activity detail: the pinned name shows in the calendar at once."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from tests.builders import gpx_bytes, write
from tests.ui.conftest import WindowFactory
from tracekit.ingest import ingest_files
from tracekit.paths import archive_dir_for, sqlite_url
from tracekit.store.engine import Database
from tracekit.store.models import Activity


def test_pinning_a_name_renames_the_session_everywhere_in_tracekit(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_window: WindowFactory,
) -> None:
    url = sqlite_url(tmp_path / "db.sqlite3")
    db = Database(url)
    run = write(tmp_path / "run.gpx", gpx_bytes(datetime(2026, 6, 1, 6, 0, tzinfo=UTC)))
    ingest_files(db, archive_dir_for(url), [run])
    with db.session() as session:
        activity_id = session.query(Activity.id).scalar()
    assert activity_id is not None
    window = open_window(url)
    window.select_activity(activity_id)
    qtbot.waitUntil(lambda: window.detail.detail is not None, timeout=10_000)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Name", True))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Sunrise loop", True))
    window.pin_value(activity_id)

    def renamed() -> bool:
        with db.session() as session:
            activity = session.get(Activity, activity_id)
            return activity is not None and activity.name == "Sunrise loop"

    qtbot.waitUntil(renamed, timeout=10_000)
    qtbot.waitUntil(
        lambda: window.detail.detail is not None and window.detail.detail.name == "Sunrise loop",
        timeout=10_000,
    )
    db.dispose()
