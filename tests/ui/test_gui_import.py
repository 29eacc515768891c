"""Drag and drop through real QDropEvents, the import summary, the empty state, and an import of
2,000 files that never stalls the event loop."""

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.builders import gpx_bytes, write, zip_bytes
from tracekit.store.engine import Database
from ui.main_window import MainWindow


def _drop(target: QWidget, paths: list[Path]) -> bool:
    """Drag `paths` over `target` and drop them, as the window system would deliver it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(target.rect().center())
    action = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, action, mime, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(target, QDragMoveEvent(pos, action, mime, buttons, modifiers))
    drop = QDropEvent(pos, action, mime, buttons, modifiers)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def _folder_with_good_and_broken_files(root: Path) -> Path:
    folder = root / "export"
    start = datetime(2026, 4, 4, 7, 0, tzinfo=UTC)
    write(folder / "morning.gpx", gpx_bytes(start))
    write(folder / "evening.gpx", gpx_bytes(start + timedelta(hours=11), name="Evening run"))
    write(folder / "nested" / "broken.tcx", b"<TrainingCenterDatabase><Activities>")
    write(folder / "truncated.fit", b"\x0e\x10\x00\x00")
    write(
        folder / "old.zip",
        zip_bytes({"runs/long.gpx": gpx_bytes(datetime(2026, 3, 8, 8, 0, tzinfo=UTC))}),
    )
    return folder


def test_dropping_a_folder_imports_it_and_the_summary_lists_good_and_broken_files(
    qtbot: QtBot, db: Database, tmp_path: Path, open_window: object
) -> None:
    window: MainWindow = open_window(db.url)  # type: ignore[operator]
    assert window.pages.currentWidget() is window.empty  # a new database: the welcome page
    folder = _folder_with_good_and_broken_files(tmp_path)
    # onto the calendar's viewport: it does not accept drops itself, the window does
    with qtbot.waitSignal(window.import_finished, timeout=60_000) as finished:
        assert _drop(window.calendar.view.viewport(), [folder])
        assert window.import_strip.isVisible()
    outcome = finished.args[0]
    assert outcome.imported == 3 and outcome.duplicates == 0
    assert sorted(Path(f).name for f, _ in outcome.failed) == ["broken.tcx", "truncated.fit"]
    summary = window.last_import_summary
    assert summary is not None and summary.isVisible()
    assert summary.headline.text() == "3 imported, 0 duplicates, 2 failed"
    lines = summary.lines()
    assert "Imported (3)" in lines and "Failed (2)" in lines
    assert any(line.startswith(str(folder / "morning.gpx")) for line in lines)
    assert any("old.zip" in line and "long.gpx" in line for line in lines)
    broken = [line for line in lines if "broken.tcx" in line]
    assert broken and broken[0].split(": ", 1)[1]  # with its reason
    # the calendar refreshed and jumped to the newest imported activity (the evening run)
    qtbot.waitUntil(
        lambda: (
            window.current == (2026, 4)
            and window.calendar.model.data_month is not None
            and window.calendar.model.data_month.month.month == 4
        )
    )
    assert window.pages.currentWidget() is window.splitter
    qtbot.waitUntil(lambda: window.detail.detail is not None)
    assert window.detail.detail.start_local == datetime(2026, 4, 4, 20, 0)  # 18:00 UTC in Girona
    assert window.calendar.model.selected_activity == window.detail.detail.activity_id
    # dropping the same folder again: duplicates, nothing new
    summary.close()
    with qtbot.waitSignal(window.import_finished, timeout=60_000) as again:
        assert _drop(window, [folder])
    assert (again.args[0].imported, again.args[0].duplicates) == (0, 3)


def test_a_drop_without_local_files_is_refused(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window: MainWindow = open_window(db.url)  # type: ignore[operator]
    mime = QMimeData()
    mime.setText("not a file")
    enter = QDragEnterEvent(
        QPointF(window.rect().center()),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    assert not window.overlay.isVisible()


def test_cancelling_an_import_keeps_whole_files_only(
    qtbot: QtBot, db: Database, tmp_path: Path, open_window: object
) -> None:
    window: MainWindow = open_window(db.url)  # type: ignore[operator]
    folder = tmp_path / "many"
    start = datetime(2025, 1, 1, 7, 0, tzinfo=UTC)
    for i in range(200):
        write(folder / f"run-{i:03d}.gpx", gpx_bytes(start + timedelta(days=i), points=12))
    handle = window.import_paths([folder])
    assert handle is not None
    qtbot.waitUntil(lambda: window.import_strip.bar.value() > 0, timeout=60_000)
    with qtbot.waitSignal(window.import_finished, timeout=60_000) as finished:
        window.cancel_import()
    outcome = finished.args[0]
    assert outcome.cancelled
    assert 0 < outcome.imported < 200
    from sqlalchemy import func, select

    from tracekit.store.models import ProviderRecord

    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(ProviderRecord))
    assert stored == outcome.imported  # every file reported is stored, nothing half-done


def test_a_2000_file_import_keeps_the_event_loop_responsive(
    qtbot: QtBot, db: Database, tmp_path: Path, open_window: object
) -> None:
    window: MainWindow = open_window(db.url)  # type: ignore[operator]
    folder = tmp_path / "library"
    start = datetime(2020, 1, 1, 6, 0, tzinfo=UTC)
    for i in range(2000):
        write(
            folder / f"{i // 100:02d}" / f"act-{i:04d}.gpx",
            gpx_bytes(start + timedelta(hours=13 * i), points=8),
        )
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    began = time.perf_counter()
    with qtbot.waitSignal(window.import_finished, timeout=300_000) as finished:
        window.import_paths([folder])
    timer.stop()
    assert finished.args[0].imported == 2000
    gaps = sorted(((b - a, a - began) for a, b in itertools.pairwise(ticks)), reverse=True)
    longest = gaps[0][0]
    worst = ", ".join(f"{g * 1000:.0f} ms at {at:.1f} s" for g, at in gaps[:3])
    print(
        f"\n2,000-file import in {time.perf_counter() - began:.1f} s: {len(ticks)} ticks, "
        f"longest event-loop stalls {worst}"
    )
    assert longest < 0.100
