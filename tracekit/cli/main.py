"""`tracekit …`: the entry point that dispatches to one module per command."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tracekit import __version__
from tracekit.cli import (
    apply_cmd,
    calendar_cmd,
    connect_cmd,
    demo_cmd,
    gui_cmd,
    import_cmd,
    journal_cmd,
    link_cmd,
    review_cmd,
    sheet_cmd,
    status_cmd,
    sync_cmd,
    sync_month_cmd,
    undo_cmd,
    unlink_cmd,
)
from tracekit.cli.context import CliContext

COMMANDS = (
    import_cmd,
    calendar_cmd,
    review_cmd,
    apply_cmd,
    link_cmd,
    unlink_cmd,
    journal_cmd,
    undo_cmd,
    sync_cmd,
    sync_month_cmd,
    connect_cmd,
    sheet_cmd,
    status_cmd,
    demo_cmd,
    gui_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracekit",
        description="Your training history from every provider, in one local database.",
    )
    parser.add_argument("--version", action="version", version=f"tracekit {__version__}")
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite database file to use (default: TRACEKIT_DB, DATABASE_URL, "
        "or tracekit.sqlite3 in the user data folder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def _spelled_as_sheet_command(argv: list[str]) -> list[str]:
    """`tracekit connect sheet PATH …` and `tracekit disconnect sheet` are the spreadsheet's
    connect flow under the provider commands; they mean `tracekit sheet connect PATH …`."""
    for position, word in enumerate(argv):
        if word in ("connect", "disconnect"):
            if argv[position + 1 : position + 2] == ["sheet"]:
                return [*argv[:position], "sheet", word, *argv[position + 2 :]]
            break
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_spelled_as_sheet_command(words))
    context = CliContext(db_path=args.db)
    try:
        code: int = args.handler(args, context)
        return code
    except KeyboardInterrupt:
        context.err.print("Interrupted.")
        return 130
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
