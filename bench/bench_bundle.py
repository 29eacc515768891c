"""Start-up of the frozen bundle against the source install, in the same run.

Both run the installation self-test (`--self-test`: temp database and migrations, a FIT import,
then the main window built and painted offscreen), alternately, N times each:

* source:  <venv python> -m ui --self-test
* bundle:  dist/Tracekit/Tracekit --self-test

Two figures per run, read from the self-test's own output through a pseudo-terminal (so lines
arrive as printed): time to the "window rendered" line (a painted window) and the total wall
time. "cold" runs first evict every file of the run's program from the page cache
(posix_fadvise DONTNEED: the bundle folder; for the source install the venv, the repository
packages and the base Python) - the closest to a cold start without root; "warm" runs follow a
warm-up run. The bundle must paint within 1.3x the source install (cold and warm medians).

    .venv/bin/python -m bench.bench_bundle [--bundle dist/Tracekit/Tracekit] [--runs 5] [--json]
"""

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAINTED = "window rendered"
TARGET_RATIO = 1.3
TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Run:
    painted_s: float
    total_s: float


@dataclass(frozen=True, slots=True)
class Summary:
    program: str
    mode: str
    runs: int
    painted_median_s: float
    painted_min_s: float
    total_median_s: float


def evict(paths: Iterable[Path]) -> int:
    """Drop these files' pages from the page cache; the number of files evicted."""
    count = 0
    for root in paths:
        files = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.is_symlink():
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            finally:
                os.close(fd)
    return count


def run_once(argv: Sequence[str], env: dict[str, str]) -> Run:
    """Run the self-test under a pseudo-terminal; when its "window rendered" line appeared."""
    leader, follower = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    painted: float | None = None
    output = b""
    deadline = start + TIMEOUT_S
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if painted is None and PAINTED.encode() in output:
                painted = time.perf_counter() - start
        elif process.poll() is not None:
            break
    code = process.wait(timeout=max(1.0, deadline - time.perf_counter()))
    total = time.perf_counter() - start
    os.close(leader)
    text = output.decode(errors="replace")
    if code != 0 or painted is None:
        raise RuntimeError(f"{argv[0]} --self-test failed (exit {code}):\n{text}")
    return Run(painted, total)


def summarise(program: str, mode: str, runs: list[Run]) -> Summary:
    painted = [r.painted_s for r in runs]
    return Summary(
        program=program,
        mode=mode,
        runs=len(runs),
        painted_median_s=round(statistics.median(painted), 3),
        painted_min_s=round(min(painted), 3),
        total_median_s=round(statistics.median(r.total_s for r in runs), 3),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "Tracekit" / "Tracekit")
    parser.add_argument("--python", type=Path, default=ROOT / ".venv" / "bin" / "python")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    bundle: Path = args.bundle.resolve()
    if not bundle.is_file():
        parser.error(f"no bundle at {bundle}: build it first (build/bundle_check.sh)")
    python = Path(args.python).absolute()  # not resolved: keep the venv's python
    base = Path(
        subprocess.run(
            [str(python), "-c", "import sys; print(sys.base_prefix)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    programs = {
        "source": ([str(python), "-m", "ui", "--self-test"], [python.parent.parent, base, ROOT]),
        "bundle": ([str(bundle), "--self-test"], [bundle.parent]),
    }
    results: dict[tuple[str, str], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="tracekit-bench-bundle-") as scratch:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "TRACEKIT_DATA_DIR": scratch,
            "PYTHONUNBUFFERED": "1",
        }
        env["PYTHONPATH"] = str(ROOT)  # the source run imports ui/ from the checkout
        for mode in ("cold", "warm"):
            for i in range(args.runs + (1 if mode == "warm" else 0)):
                for name, (command, files) in programs.items():
                    if mode == "cold":
                        evict(files)
                    run = run_once(command, env if name == "source" else _clean(env))
                    if mode == "warm" and i == 0:
                        continue  # the warm-up
                    results.setdefault((name, mode), []).append(run)

    summaries = [summarise(name, mode, runs) for (name, mode), runs in results.items()]
    ratios = {
        mode: round(
            _pick(summaries, "bundle", mode).painted_median_s
            / _pick(summaries, "source", mode).painted_median_s,
            2,
        )
        for mode in ("cold", "warm")
    }
    ok = all(r <= TARGET_RATIO for r in ratios.values())
    if args.json:
        print(json.dumps({"summaries": [asdict(s) for s in summaries], "ratios": ratios}))
    else:
        print(f"{'program':8} {'mode':5} {'runs':>4} {'painted':>9} {'min':>7} {'total':>7}")
        for s in summaries:
            print(
                f"{s.program:8} {s.mode:5} {s.runs:4} {s.painted_median_s:8.3f}s "
                f"{s.painted_min_s:6.3f}s {s.total_median_s:6.3f}s"
            )
        for mode, ratio in ratios.items():
            print(f"bundle/source painted ({mode}, medians): {ratio}x (target <= {TARGET_RATIO}x)")
    return 0 if ok else 1


def _clean(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "PYTHONPATH"}


def _pick(summaries: list[Summary], program: str, mode: str) -> Summary:
    return next(s for s in summaries if s.program == program and s.mode == mode)


if __name__ == "__main__":
    sys.exit(main())
