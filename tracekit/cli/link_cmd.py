"""`tracekit link REF REF...`: tell Tracekit these records are (or are never) one session."""

import argparse

from tracekit.cli.context import CliContext
from tracekit.linking import decide, resolve_records
from tracekit.store.models import MatchDecisionKind

REF_HELP = "a record id (as `tracekit review` shows it) or provider:id, e.g. strava:1234567"


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("link")
    parser.add_argument("records", nargs="+", metavar="REF", help=REF_HELP)
    parser.add_argument(
        "--never", action="store_true", help="instead: these records are never the same session"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    kind = MatchDecisionKind.NEVER if args.never else MatchDecisionKind.LINK
    if len(args.records) < 2:
        context.err.print("Name at least two records.")
        return 2
    try:
        ids = resolve_records(context.db, args.records)
        decide(context.db, kind, ids)
    except ValueError as exc:
        context.err.print(str(exc), highlight=False)
        return 2
    verb = "kept apart for good" if args.never else "linked"
    context.console.print(f"{len(ids)} records {verb}.", highlight=False)
    return 0
