"""`tracekit sync-month YYYY-MM`: the everyday workflow in one command.

Pull that month from every connected provider, match, show the review, and offer to apply.
"""

import argparse
from functools import partial

from tracekit.apply import OutcomeStatus, apply
from tracekit.calendar import YearMonth
from tracekit.cli import review_cmd
from tracekit.cli.apply_cmd import report_outcomes
from tracekit.cli.context import CliContext
from tracekit.credentials import CredentialStoreUnavailable
from tracekit.linking import rematch, rematch_records
from tracekit.review import build_review
from tracekit.sync import sync_month


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("sync-month")
    parser.add_argument("month", type=YearMonth.parse, metavar="YYYY-MM")
    parser.add_argument("--force", action="store_true", help="pull even if pulled recently")
    parser.add_argument("--yes", action="store_true", help="apply every proposed change")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    month: YearMonth = args.month
    try:
        providers = context.providers()
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), highlight=False, markup=False)
        return 1
    failed = False
    for name, provider in providers.items():
        report = sync_month(
            context.db,
            provider,
            month.year,
            month.month,
            force=args.force,
            on_records_changed=partial(rematch_records, context.db),
        )
        failed |= report.failed
        context.console.print(
            f"{name.label}: {report.new} new, {report.updated} updated"
            + (f" — {report.message}" if report.message else ""),
            highlight=False,
        )
    rematch(context.db, month.first_day, month.last_day)
    settings = context.settings
    capabilities = {name: p.capabilities for name, p in providers.items()}
    with context.db.session() as session:
        entries = build_review(session, month.first_day, month.last_day, settings, capabilities)
    for entry in entries:
        if entry.changes or entry.flags:
            context.console.print(review_cmd.entry_table(entry))
    changes = [c for e in entries for c in e.changes]
    if not changes:
        context.console.print(f"{month}: nothing to change.")
        return 1 if failed else 0
    chosen = _choose(context, [c.id for c in changes], args.yes)
    if chosen:
        outcomes = apply(context.db, chosen, providers, settings)
        report_outcomes(context, outcomes, as_json=False)
        failed |= any(o.status is OutcomeStatus.FAILED for o in outcomes)
    return 1 if failed else 0


def _choose(context: CliContext, ids: list[str], assume_yes: bool) -> list[str]:
    if assume_yes:
        return ids
    if not context.console.is_terminal:
        context.console.print("Not a terminal: nothing applied (use --yes, or `tracekit apply`).")
        return []
    answer = context.console.input(
        f"Apply which of the {len(ids)} changes? (all / none / ids separated by spaces) "
    ).split()
    if answer == ["all"]:
        return ids
    return [i for i in answer if i in ids]
