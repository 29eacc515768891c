"""`tracekit journal`: every change Tracekit sent (or tried to send), newest first."""

import argparse
import json

from rich.table import Table

from tracekit.cli.context import CliContext
from tracekit.journal import journal_entries


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("journal")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the journal as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    with context.db.session() as session:
        lines = journal_entries(session, limit=args.limit)
    if args.json:
        context.console.print_json(
            json.dumps(
                [
                    {
                        "id": line.id,
                        "change_id": line.change_id,
                        "kind": line.kind.value,
                        "provider": line.provider.value,
                        "old_value": line.old_value,
                        "new_value": line.new_value,
                        "state": line.state.value,
                        "message": line.message,
                        "created_at": line.created_at.isoformat(),
                        "undoable": line.undoable,
                    }
                    for line in lines
                ]
            )
        )
        return 0
    if not lines:
        context.console.print("The journal is empty: nothing has been written to a provider.")
        return 0
    table = Table("Id", "When (UTC)", "Provider", "Change", "State", "Message", "Undo")
    for line in lines:
        table.add_row(
            str(line.id),
            f"{line.created_at:%Y-%m-%d %H:%M}",
            line.provider.label,
            f"{line.kind.value}: {line.old_value or '—'} → {line.new_value or '—'}",
            line.state.value,
            line.message or "",
            "yes" if line.undoable else "",
        )
    context.console.print(table)
    return 0
