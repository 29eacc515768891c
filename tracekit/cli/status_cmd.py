"""`tracekit status`: where the database is, its schema, and what each provider holds."""

import argparse
import json

from rich.table import Table

from tracekit.cli.context import CliContext
from tracekit.status import store_status


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("status")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    status = store_status(context.db)
    if args.json:
        context.console.print_json(json.dumps(status.as_json()))
        return 0
    out = context.console
    out.print(f"Database:   {status.database}", highlight=False)
    out.print(f"Schema:     {status.schema_revision}", highlight=False)
    out.print(f"Activities: {status.activities}", highlight=False)
    table = Table("Provider", "Records", "Last sync", "State")
    for p in status.providers:
        table.add_row(
            p.provider.label,
            str(p.records),
            f"{p.last_sync_at:%Y-%m-%d %H:%M} UTC" if p.last_sync_at else "never",
            p.error or p.state or "",
        )
    if status.providers:
        out.print(table)
    else:
        out.print("No provider data yet: try `tracekit import PATH` or `tracekit demo`.")
    return 0
