"""`tracekit …`: the entry point that dispatches to one module per command.

Only the chosen command's module is imported. `COMMANDS` holds what `tracekit --help` lists, so
`--help`, `--version` and an unknown command import none of them, and no command pays for the
libraries of another (the provider clients, the spreadsheet readers, SQLAlchemy).
"""

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tracekit import __version__


class Command(NamedTuple):
    module: str  # its register(commands) adds the command's sub-parser, with `run` as handler
    help: str  # the command's line in `tracekit --help`


# In the order `tracekit --help` lists them. A module may register more than one command.
COMMANDS = {
    "import": Command(
        "tracekit.cli.import_cmd", "import FIT/GPX/TCX files, folders and zip archives"
    ),
    "calendar": Command("tracekit.cli.calendar_cmd", "show months of activities"),
    "review": Command(
        "tracekit.cli.review_cmd",
        "show each session's records side by side and the proposed changes",
    ),
    "apply": Command("tracekit.cli.apply_cmd", "apply proposed changes (asks first)"),
    "dismiss": Command(
        "tracekit.cli.dismiss_cmd", "do not propose these changes again (--restore: propose again)"
    ),
    "link": Command("tracekit.cli.link_cmd", "link records as one session (your decision wins)"),
    "unlink": Command("tracekit.cli.unlink_cmd", "make records stand alone (your decision wins)"),
    "journal": Command("tracekit.cli.journal_cmd", "list the changes written to providers"),
    "undo": Command("tracekit.cli.undo_cmd", "undo a rename, description or gear change"),
    "sync": Command("tracekit.cli.sync_cmd", "pull activities from connected providers"),
    "sync-month": Command(
        "tracekit.cli.sync_month_cmd",
        "pull a month from every provider, review it, and apply what you pick",
    ),
    "connect": Command(
        "tracekit.cli.connect_cmd", "connect a provider; its key is kept in the system keyring"
    ),
    "disconnect": Command(
        "tracekit.cli.connect_cmd", "forget a provider's key (and with --forget, its activities)"
    ),
    "sheet": Command(
        "tracekit.cli.sheet_cmd", "connect your training log (.xlsx or .csv) as a provider"
    ),
    "status": Command("tracekit.cli.status_cmd", "database location, schema and provider counts"),
    "demo": Command("tracekit.cli.demo_cmd", "create the demo database (never touches yours)"),
    "gui": Command("tracekit.cli.gui_cmd", "open the Tracekit window"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Without a command, every command by name and help line only: enough to answer `--help`
    and `--version` and to tell which command was asked for, its options left unparsed. With
    one, that command's full sub-parser, from its module imported now."""
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
    if command is None:
        for name, entry in COMMANDS.items():
            # no -h of its own: `tracekit calendar -h` is for the full sub-parser to answer
            commands.add_parser(name, help=entry.help, add_help=False)
    else:
        importlib.import_module(COMMANDS[command].module).register(commands)
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
    words = _spelled_as_sheet_command(list(sys.argv[1:] if argv is None else argv))
    # `--help`, `--version` and a missing or unknown command end in this first pass
    chosen, _ = build_parser().parse_known_args(words)
    args = build_parser(chosen.command).parse_args(words)
    from tracekit.cli.context import CliContext  # not at the top: the first pass needs no rich

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
