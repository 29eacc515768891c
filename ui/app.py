"""Starting the window: `python -m ui`, `tracekit gui`, or a future `tracekit-app` script
(`ui.app:main`).

    python -m ui [--db PATH | --url URL] [--demo] [--self-test]

Start-up imports only Qt and light Tracekit modules, shows the window, and opens the database on
a worker; a second launch on the same database brings the running window to the front.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tracekit.paths import archive_dir_for, database_url, demo_db_path, sqlite_url

DEMO_MONTHS = 12


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracekit-app", description="The Tracekit window.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, metavar="PATH", help="SQLite database file")
    where.add_argument("--url", metavar="URL", help=argparse.SUPPRESS)  # from `tracekit --db`
    parser.add_argument("--demo", action="store_true", help="open the demo database")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation offscreen (temp database, FIT import, window) and exit",
    )
    return parser


def target_for(args: argparse.Namespace) -> tuple[str, Path, bool]:
    """(database URL, archive folder, is demo) for the parsed arguments."""
    if args.demo and args.db is None and args.url is None:
        url = sqlite_url(demo_db_path())
    elif args.url:
        url = args.url
    else:
        url = database_url(args.db)
    return url, archive_dir_for(url), bool(args.demo)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        from ui.selftest import run_self_test

        return run_self_test()
    url, archive, demo = target_for(args)
    return run_gui(url, archive, demo=demo)


def run_gui(url: str, archive_dir: Path, *, demo: bool = False) -> int:
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from ui.gui_thread_gc import GuiThreadCollector
    from ui.icons import app_icon
    from ui.main_window import MainWindow, StoreTarget
    from ui.single_instance import SingleInstance
    from ui.theme import apply_theme

    QCoreApplication.setOrganizationName("Tracekit")
    QCoreApplication.setApplicationName("Tracekit")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("tracekit")
    GuiThreadCollector(app)
    instance = SingleInstance(url)
    if instance.notify_running():
        print("Tracekit is already open on this database: brought its window to the front.")
        return 0
    instance.listen()
    apply_theme(app)
    window = MainWindow(
        StoreTarget(url, archive_dir, demo=demo, demo_months=DEMO_MONTHS), state=QSettings()
    )
    instance.activated.connect(window.bring_to_front)
    app.setQuitOnLastWindowClosed(window.tray is None)
    window.show()
    window.start()
    if probe := os.environ.get("TRACEKIT_STARTUP_PROBE"):
        from ui.startup_probe import StartupProbe

        StartupProbe(window, Path(probe))
    code = app.exec()
    window.shutdown()
    instance.close()
    return code


if __name__ == "__main__":
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    sys.exit(main())
