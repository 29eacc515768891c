"""Tests against a real system tray, run by build/tray_check.sh (Xvfb with trayer as the tray
host) and skipped everywhere else.

Qt chooses its platform once per process and tests/ui/conftest.py forces offscreen, which has no
tray, so these need a pytest of their own started with QT_QPA_PLATFORM=xcb and a DISPLAY. The
check runs after collection, when any such override has already happened.
"""

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tracekit.paths import archive_dir_for
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import ProviderState, ProviderStatus, SyncState
from ui.main_window import MainWindow, StoreTarget
from ui.tray import tray_available

HERE = Path(__file__).parent
OPEN_TIMEOUT_MS = 30_000


def _why_no_real_tray() -> str | None:
    if os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"):
        return (
            "needs a real system tray: run build/tray_check.sh (a pytest of its own, with "
            "QT_QPA_PLATFORM=xcb and a DISPLAY that has a tray host)"
        )
    if shutil.which("xdotool") is None:
        return "needs xdotool to move the X pointer: run build/tray_check.sh"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _why_no_real_tray()
    if reason is None:
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def window(qtbot: QtBot, db: Database, tmp_path: Path) -> Iterator[MainWindow]:
    """The app's window over a database where Strava needs reconnecting, with the real tray,
    once its first overview (which sets the tray's tooltip) is in."""
    with db.session() as session:
        session.add(SyncState(provider=ProviderName.STRAVA, last_sync_at=datetime.now(UTC)))
        session.add(
            ProviderStatus(provider=ProviderName.STRAVA, state=ProviderState.RECONNECT_NEEDED)
        )
    state = QSettings(str(tmp_path / "ui-state.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        StoreTarget(db.url, archive_dir_for(db.url)), state=state, tray_check=tray_available
    )
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.overview_shown, timeout=OPEN_TIMEOUT_MS):
        window.start()
    yield window
    window.shutdown()
