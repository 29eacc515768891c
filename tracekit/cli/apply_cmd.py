"""`tracekit apply CHANGE_ID...` or `--month YYYY-MM --type KIND`: write approved changes."""

import argparse
import json

from tracekit.apply import ApplyOutcome, OutcomeStatus, apply
from tracekit.calendar import YearMonth
from tracekit.changes import ChangeKind, ProposedChange, activity_of
from tracekit.cli.context import CliContext
from tracekit.credentials import CredentialStoreUnavailable
from tracekit.proposals import propose, propose_between


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "apply",
        description="Apply changes shown by `tracekit review`: name them by id, or all of one "
        "type in a month. Nothing is applied without explicit ids or a type.",
    )
    parser.add_argument("ids", nargs="*", metavar="CHANGE_ID")
    parser.add_argument("--month", type=YearMonth.parse, metavar="YYYY-MM")
    parser.add_argument("--type", dest="kind", type=ChangeKind, choices=list(ChangeKind))
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    if not args.ids and not (args.month and args.kind):
        context.err.print("Name change ids, or both --month and --type.")
        return 2
    try:
        providers = context.providers()
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), highlight=False, markup=False)
        return 1
    settings = context.settings
    capabilities = {name: p.capabilities for name, p in providers.items()}
    with context.db.session() as session:
        if args.ids:
            activities = {a for a in map(activity_of, args.ids) if a is not None}
            proposed = propose(session, activities, settings, capabilities)
            chosen = [c for c in proposed if c.id in set(args.ids)]
        else:
            month = args.month
            proposed = propose_between(
                session, month.first_day, month.last_day, settings, capabilities
            )
            chosen = [c for c in proposed if c.kind is args.kind]
    ids = list(args.ids) if args.ids else [c.id for c in chosen]
    if not ids:
        context.console.print("No such proposed changes: nothing to apply.")
        return 0
    _describe(context, chosen, ids, to_stderr=args.json)
    if not context.confirm(f"Apply {len(ids)} change(s)?", args.yes):
        return 1
    outcomes = apply(context.db, ids, providers, settings)
    report_outcomes(context, outcomes, args.json)
    return 1 if any(o.status is OutcomeStatus.FAILED for o in outcomes) else 0


def _describe(
    context: CliContext, chosen: list[ProposedChange], ids: list[str], to_stderr: bool
) -> None:
    out = context.err if to_stderr else context.console
    known = {c.id for c in chosen}
    for change in chosen:
        out.print(
            f"{change.id}  {change.provider.label}: {change.kind.value} "
            f"{change.old_value or '—'} → {change.new_value or '—'}",
            highlight=False,
        )
    for missing in (i for i in ids if i not in known):
        out.print(f"{missing}  (not proposed now; it will be skipped)")


def report_outcomes(context: CliContext, outcomes: list[ApplyOutcome], as_json: bool) -> None:
    if as_json:
        context.console.print_json(
            json.dumps(
                [
                    {
                        "change_id": o.change_id,
                        "status": o.status.value,
                        "message": o.message,
                        "journal_id": o.journal_id,
                    }
                    for o in outcomes
                ]
            )
        )
        return
    colours = {OutcomeStatus.DONE: "green", OutcomeStatus.FAILED: "red"}
    for o in outcomes:
        colour = colours.get(o.status, "yellow")
        context.console.print(
            f"[{colour}]{o.status.value:7}[/] {o.change_id}  {o.message}", highlight=False
        )
