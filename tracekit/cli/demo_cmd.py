"""`tracekit demo`: a separate database filled with generated, realistic multi-provider data."""

import argparse
from pathlib import Path

from tracekit.cli.context import CliContext
from tracekit.demo import build_demo
from tracekit.paths import archive_dir_for, demo_db_path, sqlite_url
from tracekit.store.engine import Database


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "demo",
        description="Fill a fresh demo database with a few months of generated activities as "
        "several providers would see them. By default the demo lives in its own file in the "
        "user data folder; --db points it elsewhere. An existing demo database is replaced.",
    )
    parser.add_argument("--months", type=int, default=4, help="how many months of history")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    path: Path = context.db_path or demo_db_path()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    url = sqlite_url(path)
    db = Database(url)
    try:
        summary = build_demo(db, archive_dir_for(url), months=args.months, seed=args.seed)
    finally:
        db.dispose()
    context.console.print(
        f"Demo database: {path}\n{summary.activities} activities, {summary.records} provider "
        f"records, {summary.files} generated files.\n"
        f"Try: tracekit --db {path} calendar --months 2",
        highlight=False,
    )
    return 0
