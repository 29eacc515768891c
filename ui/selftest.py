"""`--self-test`: prove this installation works, without a display and without the user's data.

Opens a database in a temporary folder (running the migrations), writes a FIT file with
`tracekit.files.fit_writer` and imports it, builds the main window offscreen, checks that the
calendar shows the imported ride on its local date, renders the window, and prints each check.
Exit code 0 when everything passed; 1 with the reason otherwise.
"""

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

TIMEOUT_S = 60.0


class CheckFailed(Exception):
    pass


def run_self_test(out: Callable[[str], None] = print) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        with tempfile.TemporaryDirectory(prefix="tracekit-selftest-") as scratch:
            _checks(Path(scratch), out)
    except CheckFailed as failure:
        out(f"FAILED: {failure}")
        return 1
    except Exception as error:
        out(f"FAILED: {type(error).__name__}: {error}")
        out(traceback.format_exc())
        return 1
    out("Self-test passed.")
    return 0


def _ok(out: Callable[[str], None], text: str) -> None:
    out(f"ok   {text}")


def _wait(app: object, done: Callable[[], bool], what: str) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def _checks(scratch: Path, out: Callable[[str], None]) -> None:
    import PySide6
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from tracekit import __version__
    from tracekit.calendar import month_view
    from tracekit.files.fit_writer import write_activity
    from tracekit.files.importer import FileImporter
    from tracekit.paths import archive_dir_for, sqlite_url
    from tracekit.store.engine import Database
    from tracekit.store.migrate import current_revision

    out(f"Tracekit {__version__}, PySide6 {PySide6.__version__}, Python {sys.version.split()[0]}")
    url = sqlite_url(scratch / "selftest.sqlite3")
    db = Database(url)
    revision = current_revision(db.engine)
    if not revision:
        raise CheckFailed("the migrations did not run")
    _ok(out, f"database created and migrated (schema {revision})")

    # 23:30 UTC on 31 May is 08:30 on 1 June in Tokyo: the calendar must put it on 1 June.
    start = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    fit = scratch / "in" / "tokyo-ride.fit"
    fit.parent.mkdir()
    from tracekit.geo import loop_route

    write_activity(
        fit,
        start_utc=start,
        sport="cycling",
        elapsed_s=3600,
        distance_m=25_000,
        points=loop_route(35.68, 139.76, 25_000, 120),
        utc_offset_s=9 * 3600,
    )
    report = FileImporter(db, archive_dir_for(url)).run([fit.parent], workers=1)
    if len(report.imported) != 1 or report.failed:
        raise CheckFailed(f"FIT import: {report.as_json()}")
    _ok(out, "generated FIT file imported")
    from tracekit.calendar import YearMonth

    with db.session() as session:
        june = month_view(session, YearMonth(2026, 6))
    days = [d.isoformat() for d in june.days]
    if days != ["2026-06-01"]:
        raise CheckFailed(f"the Tokyo ride should be on 2026-06-01, found {days}")
    _ok(out, "the ride sits on its local (Tokyo) date")
    db.dispose()

    app = QApplication.instance() or QApplication(["tracekit-selftest"])
    from ui.main_window import MainWindow, StoreTarget
    from ui.theme import apply_theme

    assert isinstance(app, QApplication)
    apply_theme(app)
    state = QSettings(str(scratch / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        StoreTarget(url, archive_dir_for(url)), state=state, tray_check=lambda: False
    )
    window.show()
    window.start()
    _wait(app, lambda: window.db is not None, "the database to open in the window")
    window.go_month(2026, 6)
    _wait(
        app,
        lambda: (
            window.calendar.model.rowCount() > 0
            and window.current == (2026, 6)
            and window.calendar.model.data_month is not None
            and window.calendar.model.data_month.month.month == 6
        ),
        "June to load",
    )
    shown = window.calendar.model.data_month
    assert shown is not None
    entry_days = [d.isoformat() for d, entries in shown.view.days.items() if entries]
    if entry_days != ["2026-06-01"]:
        raise CheckFailed(f"the window's calendar shows {entry_days}")
    _ok(out, f"main window built offscreen ({app.platformName()}), calendar shows the ride")
    image = window.grab()
    if image.isNull() or image.width() < 400:
        raise CheckFailed("the window did not render")
    _ok(out, f"window rendered ({image.width()}×{image.height()})")
    window.shutdown()
    window.deleteLater()
