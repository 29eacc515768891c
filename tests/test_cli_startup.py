"""What `tracekit` imports: only the chosen command's module, so `--help` and `--version` load
none of the heavy libraries and a command never loads another's. Each case runs in a fresh
interpreter, as sys.modules here holds whatever earlier tests imported. How long start-up takes
is measured by bench/bench_cli_startup.py, not here."""

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tracekit.cli.main import COMMANDS

STORE = {"sqlalchemy", "alembic"}
PROVIDER_LIBRARIES = {
    "stravalib",
    "garminconnect",
    "curl_cffi",
    "requests",
    "httpx",
    "openpyxl",
    "keyring",
}

PROBE = """
import contextlib, io, json, sys
from tracekit.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):  # the help and version texts
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def imported_by(*argv: str | Path) -> set[str]:
    """Every module `tracekit ARGV…` has imported by the time it returns or exits."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules: list[str] = json.loads(result.stdout)
    return set(modules)


def packages(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def command_modules(modules: set[str]) -> set[str]:
    return {name for name in modules if name.startswith("tracekit.cli.") and name.endswith("_cmd")}


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["bogus"], []])
def test_the_top_level_parser_imports_no_command_and_no_heavy_library(argv: list[str]) -> None:
    modules = imported_by(*argv)
    assert command_modules(modules) == set()
    assert packages(modules) & (STORE | PROVIDER_LIBRARIES | {"rich"}) == set()


def test_a_commands_help_imports_only_its_own_module_and_no_provider_library() -> None:
    modules = imported_by("calendar", "--help")
    assert command_modules(modules) == {"tracekit.cli.calendar_cmd"}
    assert packages(modules) & PROVIDER_LIBRARIES == set()


def test_calendar_and_status_run_without_the_provider_libraries(db_path: Path) -> None:
    for command in ("calendar", "status"):
        assert packages(imported_by("--db", db_path, command)) & PROVIDER_LIBRARIES == set()


def test_gui_needs_no_store_to_start_the_window() -> None:
    assert packages(imported_by("gui", "--help")) & STORE == set()


def test_each_module_registers_exactly_the_commands_the_table_names() -> None:
    modules = {command.module for command in COMMANDS.values()}
    for module in modules:
        commands = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(commands)
        named = {name for name, command in COMMANDS.items() if command.module == module}
        assert set(commands.choices) == named, module
