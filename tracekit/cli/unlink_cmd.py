"""`tracekit unlink REF...`: take records out of the session the matcher put them in."""

import argparse

from tracekit.cli.context import CliContext
from tracekit.cli.link_cmd import REF_HELP
from tracekit.linking import decide, resolve_records
from tracekit.store.models import MatchDecisionKind


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("unlink")
    parser.add_argument("records", nargs="+", metavar="REF", help=REF_HELP)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    try:
        ids = resolve_records(context.db, args.records)
        decide(context.db, MatchDecisionKind.ALONE, ids)
    except ValueError as exc:
        context.err.print(str(exc), highlight=False)
        return 2
    context.console.print(f"{len(ids)} record(s) now stand alone.", highlight=False)
    return 0
