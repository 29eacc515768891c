"""The window on a 10-year history: cold start, month switches, memory.

Database: the demo generator over 120 months (≈4,400 activities, ≈19,000 provider records),
built once into the temp folder and reused (--rebuild to make it again), or --db.

Baseline, measured in the same run: a fresh `python -c "import PySide6.QtWidgets"`.
Measured:
- cold start: a fresh `python -m ui --url …` process until its window is first painted, and
  until the newest month's cells are painted (the database opens on a worker meanwhile);
- month switch: Page Up through 50 months, each month read from the database (cache cleared),
  until its cells are repainted; and the same with the window's neighbour prefetch, at a
  human pace (the next key only after the window went idle);
- resident memory of this process with the window open on that database.

Targets: painted < 1.5 s and < 5× the import; month switch median < 50 ms; RSS < 300 MB.

    python -m bench.bench_gui [--db PATH] [--rebuild] [--starts 5] [--switches 50]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MONTHS = 120


def demo_database(rebuild: bool) -> Path:
    folder = Path(tempfile.gettempdir()) / "tracekit-bench"
    path = folder / f"demo-{MONTHS}.sqlite3"
    if rebuild or not path.exists():
        from tracekit.paths import archive_dir_for, sqlite_url
        from ui.backend import build_demo_file

        path.unlink(missing_ok=True)
        started = time.perf_counter()
        build_demo_file(path, archive_dir_for(sqlite_url(path)), months=MONTHS)
        print(f"built the {MONTHS}-month demo in {time.perf_counter() - started:.0f} s: {path}")
    return path


def _env(scratch: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = str(scratch / "config")  # QSettings of the runs stay here
    env["TRACEKIT_DATA_DIR"] = str(scratch / "data")
    return env


def import_seconds(scratch: Path) -> float:
    started = time.time()
    subprocess.run(
        [sys.executable, "-c", "import PySide6.QtWidgets"], check=True, env=_env(scratch)
    )
    return time.time() - started


def start_seconds(url: str, scratch: Path, run: int) -> tuple[float, float]:
    """(first paint, newest month painted) after starting the app, in seconds."""
    probe = scratch / f"probe-{run}.json"
    env = _env(scratch)
    env["TRACEKIT_STARTUP_PROBE"] = str(probe)
    started = time.time()
    subprocess.run([sys.executable, "-m", "ui", "--url", url], check=True, env=env, timeout=120)
    marks: dict[str, float] = json.loads(probe.read_text())
    return marks["painted"] - started, marks["month"] - started


def rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def in_process(url: str, switches: int) -> tuple[list[float], list[float], float]:
    """(uncached switch times, prefetched switch times, RSS MB) with the window open."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from tracekit.paths import archive_dir_for
    from ui.main_window import MainWindow, StoreTarget

    app = QApplication.instance() or QApplication(["bench-gui"])
    assert isinstance(app, QApplication)

    def wait(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not answer")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 1)

    with tempfile.TemporaryDirectory() as scratch:
        state = QSettings(str(Path(scratch) / "ui.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            StoreTarget(url, archive_dir_for(url)), state=state, tray_check=lambda: False
        )
        window.resize(1440, 900)
        window.show()
        shown: list[object] = []
        window.month_shown.connect(shown.append)
        window.start()
        wait(lambda: bool(shown))
        # steady state: the provider panel's first read (which imports the provider clients)
        # and the neighbour prefetch are done before the first measured switch
        wait(lambda: window.last_overview is not None and not window.runner.active)

        def switch() -> float:
            before = len(shown)
            started = time.perf_counter()
            window.step_month(-1)
            wait(lambda: len(shown) > before)
            window.calendar.view.viewport().repaint()
            return time.perf_counter() - started

        window.prefetch = False
        uncached = []
        for _ in range(switches):
            window.clear_month_cache()
            uncached.append(switch())
        window.prefetch = True
        prefetched = []
        for _ in range(switches):
            wait(lambda: not window.runner.active)  # a person presses the next key later
            prefetched.append(switch())
        window.tabs.setCurrentWidget(window.stats_view)
        wait(lambda: window.stats_view.data is not None)
        memory = rss_mb()
        window.shutdown()
    return uncached, prefetched, memory


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, help="database to open (default: the 10-year demo)")
    parser.add_argument("--rebuild", action="store_true", help="generate the demo again")
    parser.add_argument("--starts", type=int, default=5, help="cold starts (median kept)")
    parser.add_argument("--switches", type=int, default=50, help="month switches")
    args = parser.parse_args()
    from tracekit.paths import sqlite_url

    path = args.db or demo_database(args.rebuild)
    url = sqlite_url(path)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        imports = [import_seconds(scratch) for _ in range(args.starts)]
        starts = [start_seconds(url, scratch, run) for run in range(args.starts)]
    baseline = statistics.median(imports)
    painted = statistics.median(s[0] for s in starts)
    populated = statistics.median(s[1] for s in starts)
    uncached, prefetched, memory = in_process(url, args.switches)
    size = path.stat().st_size / 1e6
    print(f"database: {path} ({size:.0f} MB)")
    print(f"baseline, python -c 'import PySide6.QtWidgets': {baseline:5.2f} s")
    print(
        f"cold start to a painted window:         {painted:5.2f} s = "
        f"{painted / baseline:4.1f}x the import   (target < 1.5 s and < 5x)"
    )
    print(
        f"cold start to the newest month painted: {populated:5.2f} s = "
        f"{populated / baseline:4.1f}x the import"
    )
    print(f"month switch, read from the database:  {_ms(uncached)}   (target median < 50 ms)")
    print(f"month switch, with neighbour prefetch: {_ms(prefetched)}")
    print(f"resident memory, window open + stats:  {memory:5.0f} MB   (target < 300 MB)")


if __name__ == "__main__":
    main()
