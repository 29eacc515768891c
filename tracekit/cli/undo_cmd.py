"""`tracekit undo JOURNAL_ID`: write a change's old value back, where the provider allows."""

import argparse

from tracekit.apply import OutcomeStatus
from tracekit.cli.context import CliContext
from tracekit.credentials import CredentialStoreUnavailable
from tracekit.journal import undo


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("undo")
    parser.add_argument("journal_id", type=int, metavar="JOURNAL_ID")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    try:
        providers = context.providers()
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), highlight=False, markup=False)
        return 1
    if not context.confirm(f"Undo journal entry {args.journal_id}?", args.yes):
        return 1
    outcome = undo(context.db, args.journal_id, providers, context.settings)
    context.console.print(f"{outcome.status.value}: {outcome.message}", highlight=False)
    return 0 if outcome.status is OutcomeStatus.DONE else 1
