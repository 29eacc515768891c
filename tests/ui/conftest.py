"""Window tests run headless: the offscreen platform is chosen before Qt is imported.

Each test gets its own QSettings file, real SQLite databases in temp folders, and windows that
are shut down (background tasks cancelled and awaited) when the test ends.
"""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tracekit.paths import archive_dir_for, sqlite_url
from tracekit.store.engine import Database
from ui.gui_thread_gc import GuiThreadCollector
from ui.main_window import MainWindow, StoreTarget

OPEN_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session", autouse=True)
def gc_on_the_gui_thread(qapp: QApplication) -> Iterator[GuiThreadCollector]:
    """As in the app: cycles holding Qt wrappers are never collected on a worker thread."""
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.stop()


@pytest.fixture
def ui_state(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui-state.ini"), QSettings.Format.IniFormat)


type WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def open_window(qtbot: QtBot, ui_state: QSettings) -> Iterator[WindowFactory]:
    """Open a window over a database URL and wait until the database is open."""
    windows: list[MainWindow] = []

    def factory(url: str, *, wait: bool = True, **options: object) -> MainWindow:
        options.setdefault("state", ui_state)
        options.setdefault("tray_check", lambda: False)
        # (the window makes its own TaskRunner, parented to it, as in the app)
        window = MainWindow(StoreTarget(url, archive_dir_for(url)), **options)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if wait:
            with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT_MS):
                window.start()
            if window.pages.currentWidget() is window.splitter:
                qtbot.waitUntil(lambda: window.calendar.model.data_month is not None)
        return window

    yield factory
    for window in windows:
        window.shutdown()


@pytest.fixture
def db_url(db: Database) -> str:
    return db.url


def url_for(path: Path) -> str:
    return sqlite_url(path)
