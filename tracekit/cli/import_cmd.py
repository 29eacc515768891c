"""`tracekit import PATH...`: files, folders (recursive) and zips."""

import argparse
import json
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tracekit.cli.context import CliContext
from tracekit.files.importer import ImportReport
from tracekit.ingest import ingest_files
from tracekit.units import format_distance


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "import",
        description="Import activity files. Folders are searched recursively; zip archives "
        "(also nested) and gzip-compressed files are read in place.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    show_bar = context.err.is_terminal and not args.json
    if show_bar:
        with Progress(
            TextColumn("Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=context.err,
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)
            report = ingest_files(
                context.db,
                context.archive_dir,
                args.paths,
                progress=lambda done, total, _: bar.update(task, completed=done, total=total),
            )
    else:
        report = ingest_files(context.db, context.archive_dir, args.paths)
    if args.json:
        context.console.print_json(json.dumps(report.as_json()))
    else:
        _print_summary(report, context)
    return 1 if report.failed else 0


def _print_summary(report: ImportReport, context: CliContext) -> None:
    out = context.console
    for item in report.imported:
        out.print(
            f"[green]imported[/]  {item.file}  {item.start_utc:%Y-%m-%d %H:%M} UTC  "
            f"{item.sport}  {format_distance(item.distance_m)}",
            highlight=False,
        )
    for item in report.duplicates:
        out.print(
            f"[yellow]duplicate[/] {item.file}  (already imported as activity {item.activity_id})",
            highlight=False,
        )
    for failed in report.failed:
        out.print(f"[red]failed[/]    {failed.file}: {failed.error}", highlight=False)
    out.print(
        f"{len(report.imported)} imported, {len(report.duplicates)} duplicates, "
        f"{len(report.failed)} failed",
        highlight=False,
    )
