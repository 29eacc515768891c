"""`tracekit sheet connect|show|disconnect`: the training log as a provider.

`connect` reads the sheet, shows the column mapping it detected and a preview of the first
rows as Tracekit reads them, and asks before saving it (`--yes` accepts without asking).
Units are never guessed: a unit the headers do not state is asked for on a terminal, and must
be given (`--units km|mi`, `--duration-unit`, `--date-order`) otherwise.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.prompt import Confirm, Prompt
from rich.table import Table

from tracekit.cli.context import CliContext
from tracekit.providers.base import ProviderError
from tracekit.settings import load_settings
from tracekit.spreadsheet.config import (
    Question,
    SheetConfig,
    forget_sheet_config,
    load_sheet_config,
)
from tracekit.spreadsheet.mapping import (
    ROW_ID_HEADER,
    DateOrder,
    DurationUnit,
    SheetField,
)
from tracekit.spreadsheet.preview import (
    PREVIEW_COLUMNS,
    SHOWN_PROBLEMS,
    SheetChoices,
    SheetPreview,
    add_row_id_column,
    connect_sheet,
    describe_units,
    mapped_fields,
    preview_choices,
    preview_table,
)
from tracekit.spreadsheet.table import SheetError, read_table


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "sheet",
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
    with context.db.session() as session:
        home = load_settings(session).home_timezone
    try:
        table = read_table(path, args.sheet, args.header_row)
        preview = preview_choices(table, _choices(args), home)
    except (SheetError, ValueError) as exc:
        context.err.print(str(exc), highlight=False)
        return 2
    if preview.column_error is not None:
        context.err.print(preview.column_error, highlight=False)
        return 2
    if preview.units_disagree is not None:
        context.err.print(preview.units_disagree, highlight=False)
        return 2
    if preview.unanswered:
        answered = _ask(preview, context)
        if answered is None:
            return 2
        preview = preview_choices(table, answered, home)
    config = preview.config
    _print_mapping(context, config, preview.ignored)
    _print_preview(context, preview)
    if not args.yes:
        if not _interactive(context):
            context.err.print("Nothing saved: run again with --yes to accept this mapping.")
            return 2
        if not Confirm.ask("Use this mapping?", console=context.console, default=True):
            context.console.print("Nothing saved.")
            return 1
    context.console.print(connect_sheet(context.db, config), highlight=False)
    wants_ids = args.add_id_column
    if not wants_ids and SheetField.ROW_ID not in config.mapping.columns and _interactive(context):
        wants_ids = Confirm.ask(
            f"Add a {ROW_ID_HEADER!r} column to the sheet so rows keep their identity even "
            "when you change their date or sport? (a backup is made first)",
            console=context.console,
            default=False,
        )
    if wants_ids:
        try:
            added = add_row_id_column(context.db, config, home)
        except ProviderError as exc:
            context.err.print(str(exc), highlight=False)
            return 1
        context.console.print(added.message, highlight=False)
    return 0


def _choices(args: argparse.Namespace) -> SheetChoices:
    choices = SheetChoices()
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
        choices = choices.with_column(which, header.strip() or None)
    for question, answer in (
        (Question.DISTANCE_UNIT, args.units),
        (Question.DURATION_UNIT, args.duration_unit),
        (Question.DATE_ORDER, args.date_order),
    ):
        if answer:
            choices = choices.with_answer(question, answer)
    return choices


_FLAGS = {
    Question.DISTANCE_UNIT: "--units km or --units mi",
    Question.DURATION_UNIT: "--duration-unit s, min or h",
    Question.DATE_ORDER: "--date-order dmy or mdy",
}


def _ask(preview: SheetPreview, context: CliContext) -> SheetChoices | None:
    choices = preview.choices
    for question in preview.unanswered:
        if not _interactive(context):
            context.err.print(
                f"{question.prompt} Tracekit does not guess: give {_FLAGS[question]}.",
                highlight=False,
            )
            return None
        answer = Prompt.ask(question.prompt, choices=question.choices, console=context.console)
        choices = choices.with_answer(question, answer)
    return choices


def _print_mapping(context: CliContext, config: SheetConfig, ignored: Sequence[str]) -> None:
    out = context.console
    where = f"{config.path}" + (f", sheet {config.sheet!r}" if config.sheet else "")
    out.print(f"Sheet: {where}, headers in row {config.header_row}", highlight=False)
    grid = Table("Field", "Column", box=None, pad_edge=False)
    for which, header in mapped_fields(config.mapping):
        grid.add_row(which.label, header)
    out.print(grid)
    units = describe_units(config.mapping)
    if units:
        out.print("Units: " + units, highlight=False)
    if ignored:
        out.print("Not read: " + ", ".join(ignored), highlight=False)


def _print_preview(context: CliContext, preview: SheetPreview) -> None:
    if preview.read_error is not None:
        context.err.print(preview.read_error, highlight=False)
        return
    grid = Table(*PREVIEW_COLUMNS, box=None)
    for row in preview.rows:
        grid.add_row(*row.texts())
    context.console.print(grid)
    context.console.print(preview.summary, highlight=False)
    for problem in preview.problems[:SHOWN_PROBLEMS]:
        context.console.print(f"  {problem}", highlight=False)
    if preview.warning is not None:
        context.console.print(preview.warning, highlight=False)


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
    preview: SheetPreview | None = None
    try:
        table = read_table(config.path, config.sheet, config.header_row)
        preview = preview_table(table, config.mapping, home)
    except SheetError as exc:
        context.err.print(str(exc), highlight=False)
    _print_mapping(context, config, preview.ignored if preview is not None else ())
    if preview is not None:
        _print_preview(context, preview)
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
