"""`tracekit gui`: open the window over your database (or the demo).

tracekit/ never imports Qt or the `ui` package, so the window runs as its own program
(`python -m ui`) on the database this command resolved; its exit code is returned.
"""

import argparse
import importlib.util
import subprocess
import sys

from tracekit.cli.context import CliContext


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "gui",
        description="Open the window over the database (the global --db, TRACEKIT_DB, "
        "DATABASE_URL or the default). With --demo, over the demo database, created on first "
        "use. A second launch on the same database brings the open window to the front.",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the demo database (created on first use)"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation offscreen (temp database, FIT import, window) and exit",
    )
    parser.set_defaults(handler=run)


def command(args: argparse.Namespace, context: CliContext) -> list[str]:
    """The window's command line for these arguments."""
    argv = [sys.executable, "-m", "ui"]
    if args.self_test:
        return [*argv, "--self-test"]
    if args.demo:
        argv.append("--demo")
        if context.db_path is not None:  # `tracekit --db X gui --demo`: the demo lives at X
            argv += ["--url", context.url]
        return argv
    return [*argv, "--url", context.url]


def run(args: argparse.Namespace, context: CliContext) -> int:
    if importlib.util.find_spec("PySide6") is None:
        context.err.print(
            "The window needs PySide6: pip install pyside6-essentials", highlight=False
        )
        return 1
    return subprocess.run(command(args, context), check=False).returncode
