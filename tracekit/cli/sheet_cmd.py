"""`tracekit sheet connect|show|disconnect`: the training log as a provider.

`connect` reads the sheet, shows the column mapping it detected and a preview of the first
rows as Tracekit reads them, and asks before saving it (`--yes` accepts without asking).
Units are never guessed: a unit the headers do not state is asked for on a terminal, and must
be given (`--units km|mi`, `--duration-unit`, `--date-order`) otherwise.
"""

import argparse
import json
import sys
from pathlib import Path

from rich.prompt import Confirm, Prompt
from rich.table import Table

from tracekit.cli.context import CliContext
from tracekit.providers.base import ProviderError
from tracekit.providers.spreadsheet import SpreadsheetProvider
from tracekit.settings import load_settings
from tracekit.spreadsheet.config import (
    Question,
    SheetConfig,
    check_columns,
    detect_for,
    forget_sheet_config,
    load_sheet_config,
    open_questions,
    save_sheet_config,
    unit_conflicts,
    unmapped_headers,
)
from tracekit.spreadsheet.mapping import (
    ROW_ID_HEADER,
    DateOrder,
    DistanceUnit,
    DurationUnit,
    SheetField,
    SheetMapping,
)
from tracekit.spreadsheet.rows import parse_sheet
from tracekit.spreadsheet.store import adopt_row_ids
from tracekit.spreadsheet.table import SheetError, SheetTable, read_table
from tracekit.spreadsheet.values import CellError
from tracekit.units import format_distance, format_duration

PREVIEW_ROWS = 5


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "sheet",
        help="connect your training log (.xlsx or .csv) as a provider",
        description="Connect a training-log spreadsheet: Tracekit reads its rows like any "
        "provider's activities and writes approved changes back into it (with a backup).",
    )
    sub = parser.add_subparsers(dest="sheet_command", metavar="SUBCOMMAND", required=True)
    connect = sub.add_parser("connect", help="detect the columns of a sheet and connect it")
    connect.add_argument("path", type=Path, metavar="PATH")
    connect.add_argument("--sheet", metavar="NAME", help="the worksheet (default: the active one)")
    connect.add_argument("--header-row", type=int, metavar="N", help="the row with the headers")
    connect.add_argument("--units", choices=["km", "mi"], help="the unit of the distance column")
    connect.add_argument(
        "--duration-unit",
        choices=[u.value for u in DurationUnit],
        help="what bare numbers in the duration column count",
    )
    connect.add_argument(
        "--date-order",
        choices=[o.value for o in DateOrder],
        help="how to read dates like 03/04/2024 (day/month or month/day)",
    )
    connect.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="map a field to a header (FIELD= unmaps it); fields: "
        + ", ".join(f.value for f in SheetField),
    )
    connect.add_argument("--yes", action="store_true", help="accept the mapping without asking")
    connect.add_argument(
        "--add-id-column",
        action="store_true",
        help=f"add a {ROW_ID_HEADER!r} column so rows keep their identity whatever you edit "
        "(writes to the sheet, after a backup)",
    )
    show = sub.add_parser("show", help="show the connected sheet and its mapping")
    show.add_argument("--json", action="store_true", help="print the settings as JSON")
    sub.add_parser("disconnect", help="stop reading the sheet (its records stay)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    if args.sheet_command == "connect":
        return _connect(args, context)
    if args.sheet_command == "show":
        return _show(args, context)
    return _disconnect(context)


def _interactive(context: CliContext) -> bool:
    return sys.stdin.isatty() and context.console.is_terminal


def _connect(args: argparse.Namespace, context: CliContext) -> int:
    path = args.path.expanduser().resolve()
    try:
        table = read_table(path, args.sheet, args.header_row)
        mapping = _mapping(table, args)
        check_columns(table, mapping)
    except (SheetError, ValueError) as exc:
        context.err.print(str(exc), highlight=False)
        return 2
    conflicts = unit_conflicts(table, mapping)
    if conflicts:
        context.err.print("Units do not agree: " + "; ".join(conflicts), highlight=False)
        return 2
    answered = _ask(table, mapping, context)
    if answered is None:
        return 2
    mapping = answered
    with context.db.session() as session:
        home = load_settings(session).home_timezone
    config = SheetConfig(path, table.sheet, table.header_row, mapping)
    _print_mapping(context, config, table)
    _print_preview(context, table, mapping, home)
    if not args.yes:
        if not _interactive(context):
            context.err.print("Nothing saved: run again with --yes to accept this mapping.")
            return 2
        if not Confirm.ask("Use this mapping?", console=context.console, default=True):
            context.console.print("Nothing saved.")
            return 1
    with context.db.session() as session:
        save_sheet_config(session, config)
    context.console.print(f"Connected {path.name}.", highlight=False)
    wants_ids = args.add_id_column
    if not wants_ids and SheetField.ROW_ID not in mapping.columns and _interactive(context):
        wants_ids = Confirm.ask(
            f"Add a {ROW_ID_HEADER!r} column to the sheet so rows keep their identity even "
            "when you change their date or sport? (a backup is made first)",
            console=context.console,
            default=False,
        )
    if wants_ids:
        return _add_ids(context, config, home)
    return 0


def _mapping(table: SheetTable, args: argparse.Namespace) -> SheetMapping:
    mapping = detect_for(table)
    for item in args.column:
        name, sep, header = item.partition("=")
        if not sep:
            raise ValueError(f"--column {item!r}: write it as FIELD=HEADER")
        try:
            which = SheetField(name.strip().lower())
        except ValueError:
            raise ValueError(
                f"--column {item!r}: no field {name!r} (fields: "
                + ", ".join(f.value for f in SheetField)
                + ")"
            ) from None
        mapping = mapping.with_column(which, header.strip() or None)
    if args.units:
        mapping = _with(mapping, distance_unit=DistanceUnit(args.units))
    if args.duration_unit:
        mapping = _with(mapping, duration_unit=DurationUnit(args.duration_unit))
    if args.date_order:
        mapping = _with(mapping, date_order=DateOrder(args.date_order))
    return mapping


def _with(
    mapping: SheetMapping,
    distance_unit: DistanceUnit | None = None,
    duration_unit: DurationUnit | None = None,
    date_order: DateOrder | None = None,
) -> SheetMapping:
    return SheetMapping(
        mapping.columns,
        distance_unit or mapping.distance_unit,
        duration_unit or mapping.duration_unit,
        date_order or mapping.date_order,
    )


_FLAGS = {
    Question.DISTANCE_UNIT: "--units km or --units mi",
    Question.DURATION_UNIT: "--duration-unit s, min or h",
    Question.DATE_ORDER: "--date-order dmy or mdy",
}


def _ask(table: SheetTable, mapping: SheetMapping, context: CliContext) -> SheetMapping | None:
    for question in open_questions(table, mapping):
        if not _interactive(context):
            context.err.print(
                f"{question.prompt} Tracekit does not guess: give {_FLAGS[question]}.",
                highlight=False,
            )
            return None
        answer = Prompt.ask(question.prompt, choices=question.choices, console=context.console)
        if question is Question.DISTANCE_UNIT:
            mapping = _with(mapping, distance_unit=DistanceUnit(answer))
        elif question is Question.DURATION_UNIT:
            mapping = _with(mapping, duration_unit=DurationUnit(answer))
        else:
            mapping = _with(mapping, date_order=DateOrder(answer))
    return mapping


def _print_mapping(context: CliContext, config: SheetConfig, table: SheetTable | None) -> None:
    out = context.console
    where = f"{config.path}" + (f", sheet {config.sheet!r}" if config.sheet else "")
    out.print(f"Sheet: {where}, headers in row {config.header_row}", highlight=False)
    grid = Table("Field", "Column", box=None, pad_edge=False)
    for which in SheetField:
        header = config.mapping.header(which)
        if header is not None:
            grid.add_row(which.label, header)
    out.print(grid)
    mapping = config.mapping
    units = [
        f"distance in {mapping.distance_unit.value}" if mapping.distance_unit else None,
        f"bare durations in {mapping.duration_unit.value}" if mapping.duration_unit else None,
        f"dates {mapping.date_order.value}" if mapping.date_order else None,
    ]
    if any(units):
        out.print("Units: " + ", ".join(u for u in units if u), highlight=False)
    if table is not None:
        ignored = unmapped_headers(table, mapping)
        if ignored:
            out.print("Not read: " + ", ".join(ignored), highlight=False)


def _print_preview(
    context: CliContext, table: SheetTable, mapping: SheetMapping, home: str | None
) -> None:
    try:
        parsed = parse_sheet(table, mapping, home)
    except CellError as exc:
        context.err.print(str(exc), highlight=False)
        return
    grid = Table("Row", "Start", "Sport", "Distance", "Duration", "Name", box=None)
    for row in parsed.rows[:PREVIEW_ROWS]:
        a = row.activity
        if a.date_only and a.start_local is not None:
            start = f"{a.start_local:%Y-%m-%d}"
        elif a.start_local is not None:
            start = f"{a.start_local:%Y-%m-%d %H:%M}" + (f" {a.timezone}" if a.timezone else "")
        else:
            start = "?"
        grid.add_row(
            str(row.row),
            start,
            a.sport.value,
            format_distance(a.distance_m),
            format_duration(a.elapsed_s),
            a.name or "",
        )
    context.console.print(grid)
    context.console.print(
        f"{len(parsed.rows)} rows read, {len(parsed.problems)} problems", highlight=False
    )
    for problem in parsed.problems[:10]:
        context.console.print(f"  {problem}", highlight=False)
    if not home and any(
        r.activity.start_utc is None and not r.activity.date_only for r in parsed.rows
    ):
        context.console.print(
            "No home time zone is set: rows with a time keep their wall clock but no instant.",
            highlight=False,
        )


def _add_ids(context: CliContext, config: SheetConfig, home: str | None) -> int:
    provider = SpreadsheetProvider(config, home)
    try:
        new_config, renames = provider.add_row_ids()
    except ProviderError as exc:
        context.err.print(str(exc), highlight=False)
        return 1
    with context.db.session() as session:
        save_sheet_config(session, new_config)
        moved = adopt_row_ids(session, renames)
    backup = provider.last_write.backup if provider.last_write else None
    kept = f"; {moved} imported rows keep their history under the new ids" if moved else ""
    context.console.print(
        f"Added a {ROW_ID_HEADER!r} column ({len(renames)} rows{kept})."
        + (f" Backup: {backup}" if backup else ""),
        highlight=False,
    )
    return 0


def _show(args: argparse.Namespace, context: CliContext) -> int:
    with context.db.session() as session:
        config = load_sheet_config(session)
        home = load_settings(session).home_timezone
    if config is None:
        context.err.print("No sheet is connected (tracekit sheet connect PATH).")
        return 1
    if args.json:
        context.console.print_json(json.dumps(config.as_json()))
        return 0
    table: SheetTable | None = None
    try:
        table = read_table(config.path, config.sheet, config.header_row)
    except SheetError as exc:
        context.err.print(str(exc), highlight=False)
    _print_mapping(context, config, table)
    if table is not None:
        _print_preview(context, table, config.mapping, home)
    return 0


def _disconnect(context: CliContext) -> int:
    with context.db.session() as session:
        removed = forget_sheet_config(session)
    if not removed:
        context.err.print("No sheet was connected.")
        return 1
    context.console.print(
        "Disconnected. Rows already imported stay in Tracekit; the sheet itself is untouched."
    )
    return 0
