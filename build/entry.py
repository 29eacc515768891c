"""The frozen app's entry point (PyInstaller runs this as `__main__` inside `Tracekit`).

    Tracekit [--db PATH | --demo]     the window (everything is `ui.app.main`)
    Tracekit --self-test              the UI's installation self-test (`ui.selftest`)
    Tracekit --bundle-check           what only a bundle can get wrong (CI runs it after
                                      --self-test): lazily imported third-party packages,
                                      bundled resources and migrations, the data folder outside
                                      the app, and the import's worker processes
                                      (multiprocessing in a frozen program)

`multiprocessing.freeze_support()` must run first: the importer's worker processes and the
forkserver start this same executable again, and PyInstaller's hook diverts them here.
"""

import multiprocessing
import os
import sys

BUNDLE_CHECK = "--bundle-check"


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    if "--self-test" in argv or BUNDLE_CHECK in argv:
        _console_for_output()
    if argv[:1] == [BUNDLE_CHECK]:
        return bundle_check()
    from ui.app import main as app_main

    return app_main(argv)


def _console_for_output() -> None:
    """Windows: the app is a windowed program with no stdout; when started from a console
    (`Tracekit.exe --self-test` in cmd or PowerShell), print the report there."""
    if sys.platform != "win32" or sys.stdout is not None:
        return
    try:
        import ctypes

        if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
            sys.stdout = open("CONOUT$", "w", encoding="utf-8")  # noqa: SIM115, PTH123
            sys.stderr = sys.stdout
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------------------------
# --bundle-check


def bundle_check() -> int:
    failures = 0
    for name, check in CHECKS:
        try:
            detail = check()
        except Exception as error:  # report every failing check, not just the first
            failures += 1
            print(f"FAILED {name}: {type(error).__name__}: {error}")
        else:
            print(f"ok   {name}{f' ({detail})' if detail else ''}")
    print("Bundle check passed." if not failures else f"Bundle check: {failures} failed.")
    return 1 if failures else 0


def _check_frozen() -> str:
    from tracekit import __version__
    from tracekit.resources import is_frozen

    if __version__ == "0.0.0":
        raise RuntimeError("the package metadata is missing (version 0.0.0)")
    return f"frozen={is_frozen()}, version {__version__}"


def _check_resources() -> str:
    from tracekit.resources import app_icon_file, app_icon_pngs, resources_dir

    missing = [str(p) for p in app_icon_pngs().values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(", ".join(missing))
    return f"{app_icon_file().name} in {resources_dir()}"


def _check_data_dir() -> str:
    from pathlib import Path

    from platformdirs import user_data_dir

    from tracekit.paths import APP_NAME

    data = Path(user_data_dir(APP_NAME, appauthor=False)).resolve()
    app = Path(sys.executable).resolve().parent
    if data.is_relative_to(app):
        raise RuntimeError(f"the user data folder {data} is inside the app folder {app}")
    return str(data)


def _check_migrations() -> str:
    from tracekit.store.migrate import MIGRATIONS_DIR

    versions = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    if not (MIGRATIONS_DIR / "env.py").is_file() or not versions:
        raise FileNotFoundError(f"Alembic scripts missing under {MIGRATIONS_DIR}")
    return f"{len(versions)} revisions as files"


def _check_providers() -> str:
    """The provider stacks are imported lazily (on connect/sync), so the UI self-test never
    loads them: import them here, and build the objects that need bundled data files."""
    import importlib
    from importlib.metadata import PackageNotFoundError, entry_points, version

    import httpx
    import keyring
    import openpyxl
    import pint

    os.environ.setdefault("SILENCE_TOKEN_WARNINGS", "true")  # stravalib, on a client without keys
    names = ["intervalsicu", "strava", "garmin", "garmin_client", "ridewithgps", "spreadsheet"]
    for name in names:
        importlib.import_module(f"tracekit.providers.{name}")
    import curl_cffi.requests
    import stravalib

    stravalib.Client()
    with curl_cffi.requests.Session():
        pass
    with httpx.Client():  # the TLS context loads the bundled CA file
        pass
    pint.UnitRegistry()
    openpyxl.Workbook()
    # keyring finds its backends through entry points: the metadata must be in the bundle, and
    # the platform's own backend module with it.
    if not entry_points(group="keyring.backends"):
        raise RuntimeError("keyring's backend entry points are missing")
    native = {"win32": "Windows", "darwin": "macOS"}.get(sys.platform, "SecretService")
    importlib.import_module(f"keyring.backends.{native}")
    backend = type(keyring.get_keyring())

    def dist(name: str) -> str:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:  # not needed at run time, so not always bundled
            return name

    return (
        f"{len(names)} providers; {dist('stravalib')}, {dist('garminconnect')}; "
        f"keyring {backend.__module__}.{backend.__name__}"
    )


def _check_no_numpy() -> str:
    if "numpy" in sys.modules:
        raise RuntimeError("numpy was imported (the spec excludes it: pint must not need it)")
    return ""


def _check_worker_processes() -> str:
    """The window imports in a child process, which runs the importer's process pool: the
    forkserver (Linux) / spawn (macOS, Windows) children are this executable started again."""
    import tempfile
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from tracekit.files.fit_writer import write_activity
    from tracekit.files.importer import PARALLEL_THRESHOLD
    from tracekit.geo import loop_route
    from tracekit.paths import archive_dir_for, sqlite_url
    from ui.backend import import_in_process

    class Quiet:
        def progress(self, done: int, total: int, text: str = "") -> None:
            pass

        def cancelled(self) -> bool:
            return False

    count = PARALLEL_THRESHOLD + 2
    with tempfile.TemporaryDirectory(prefix="tracekit-bundle-check-") as scratch:
        folder = Path(scratch) / "in"
        folder.mkdir()
        for i in range(count):
            write_activity(
                folder / f"ride-{i}.fit",
                start_utc=datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(days=i),
                sport="cycling",
                elapsed_s=1800,
                distance_m=10_000 + i,
                points=loop_route(47.37, 8.54, 10_000 + i, 60),
                utc_offset_s=3600,
            )
        url = sqlite_url(Path(scratch) / "check.sqlite3")
        outcome = import_in_process(url, archive_dir_for(url), [folder], Quiet())
    if outcome.imported != count or outcome.failed:
        raise RuntimeError(f"imported {outcome.imported} of {count}, failed {outcome.failed}")
    method = multiprocessing.get_all_start_methods()
    start = "forkserver" if "forkserver" in method else "spawn"
    return f"{count} files through a child process and a {start} pool"


CHECKS = [
    ("package metadata", _check_frozen),
    ("bundled resources", _check_resources),
    ("user data folder outside the app", _check_data_dir),
    ("Alembic migrations", _check_migrations),
    ("provider libraries", _check_providers),
    ("numpy not loaded", _check_no_numpy),
    ("import worker processes", _check_worker_processes),
]


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
