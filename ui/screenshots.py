"""Screenshots for the README, rendered offscreen on freshly generated demo data.

    python -m ui.screenshots [--out docs/screenshots] [--months 12]

Writes main-window.png (light), main-window-dark.png, activity-detail.png, stats.png,
review-changes.png and connect-strava.png. The review dialog proposes for the demo's simulated
providers (or, in a build whose demo has none, as if Garmin, Strava, RideWithGPS and
intervals.icu were connected with every capability); nothing is applied.
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1440, 900


def _wait(done: Callable[[], bool], timeout: float = 60.0) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def _settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    _wait(lambda: time.monotonic() > end)


class _Capable:
    """Stands in for a connected provider when only its capabilities are read."""

    def __init__(self, name: Any) -> None:
        from tracekit.providers.base import Capability

        self.name = name
        self.capabilities = frozenset(Capability)


def _all_connected(db: Any) -> Any:
    """The demo's own (simulated) connections; stand-ins if this build's demo has none."""
    from tracekit.providers.names import ProviderName
    from ui.backend import Connections, connections

    found = connections(db)
    if found.providers:
        return found

    names = (
        ProviderName.GARMIN,
        ProviderName.STRAVA,
        ProviderName.RIDEWITHGPS,
        ProviderName.INTERVALSICU,
    )
    return Connections({name: _Capable(name) for name in names})


def _best_activity(window: Any) -> int:
    """The month's activity with the most providers, a track and the longest distance."""
    data = window.calendar.model.data_month
    entries = [e for day in data.view.days.values() for e in day]
    best = max(
        entries,
        key=lambda e: (len(e.providers), "file" in e.providers, e.distance_m or 0.0),
    )
    return int(best.activity_id)


def shoot(out: Path, months: int) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from tracekit.paths import archive_dir_for, sqlite_url
    from ui.backend import build_demo_file

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["tracekit-screenshots"])
    assert isinstance(app, QApplication)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tracekit-shots-") as scratch:
        db_path = Path(scratch) / "demo.sqlite3"
        url = sqlite_url(db_path)
        build_demo_file(db_path, archive_dir_for(url), months=months)
        written += _shoot_theme(app, url, Path(scratch), out, dark=False)
        written += _shoot_theme(app, url, Path(scratch), out, dark=True)
    return written


def _shoot_theme(app: Any, url: str, scratch: Path, out: Path, *, dark: bool) -> list[Path]:
    from calendar import monthrange
    from datetime import date

    from PySide6.QtCore import QSettings

    from tracekit.changes import ChangeKind
    from tracekit.paths import archive_dir_for
    from tracekit.providers.names import ProviderName
    from ui.backend import ReviewScope
    from ui.main_window import MainWindow, StoreTarget
    from ui.theme import apply_theme

    apply_theme(app, dark=dark)
    state = QSettings(str(scratch / f"ui-{dark}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        StoreTarget(url, archive_dir_for(url)),
        state=state,
        connections=_all_connected,
        tray_check=lambda: False,
    )
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.start()
    _wait(lambda: window.calendar.model.data_month is not None)
    window.splitter.setSizes([200, WIDTH - 200 - 410, 410])
    window.calendar.view.select_activity(_best_activity(window))
    _wait(lambda: window.detail.detail is not None and window.last_overview is not None)
    _settle()
    written = [_save(window.grab(), out / f"main-window{'-dark' if dark else ''}.png")]
    if not dark:
        window.splitter.setSizes([200, WIDTH - 200 - 560, 560])
        _settle()
        body = window.detail.widget()  # the whole pane, not only what fits on screen
        assert body is not None
        written.append(_save(body.grab(), out / "activity-detail.png"))
        window.splitter.setSizes([200, WIDTH - 200 - 410, 410])
        window.tabs.setCurrentWidget(window.stats_view)
        _wait(lambda: window.stats_view.data is not None)
        _settle()
        written.append(_save(window.grab(), out / "stats.png"))
        window.tabs.setCurrentWidget(window.calendar)
        year, month = window.current
        first, last = date(year, month, 1), date(year, month, monthrange(year, month)[1])
        dialog = window.open_review(ReviewScope(f"{first:%B %Y}", first, last))
        _wait(lambda: bool(dialog.rows) or "Nothing" in dialog.headline.text())
        dialog.resize(1240, 660)
        dialog.select_all_of(ChangeKind.RENAME)
        _settle()
        written.append(_save(dialog.grab(), out / "review-changes.png"))
        dialog.close()
        settings = window.open_settings()
        assert settings is not None
        connect = window.connect_provider(ProviderName.STRAVA, settings)
        assert connect is not None
        _settle()
        written.append(_save(connect.grab(), out / "connect-strava.png"))
        connect.reject()
        settings.reject()
    window.shutdown()
    return written


def _save(pixmap: Any, path: Path) -> Path:
    if not pixmap.save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--months", type=int, default=12, help="months of demo history")
    args = parser.parse_args(argv)
    for path in shoot(args.out, args.months):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
