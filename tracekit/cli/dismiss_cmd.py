"""`tracekit dismiss CHANGE_ID...`: do not propose these changes again; `--restore` undoes that."""

import argparse

from tracekit.cli.context import CliContext
from tracekit.credentials import CredentialStoreUnavailable
from tracekit.dismissals import DismissRefused, dismiss, restore


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "dismiss",
        description="Leave changes shown by `tracekit review` out of every review from now on. "
        "Unlike a pin, which changes what every provider gets, this only hides these changes; "
        "nothing is written to any provider. A different value proposed later is a new change, "
        "and is proposed.",
    )
    parser.add_argument("ids", nargs="+", metavar="CHANGE_ID")
    parser.add_argument(
        "--restore", action="store_true", help="propose these dismissed changes again"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    if args.restore:
        return _restore(args.ids, context)
    try:
        providers = context.providers()
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), highlight=False, markup=False)
        return 1
    capabilities = {name: p.capabilities for name, p in providers.items()}
    try:
        changes = dismiss(context.db, args.ids, context.settings, capabilities)
    except DismissRefused as refused:
        for change, why in refused.refused.items():
            context.err.print(f"{change}: {why}", highlight=False, markup=False)
        context.err.print("Nothing dismissed.", highlight=False)
        return 1
    for c in changes:
        context.console.print(
            f"{c.id}  {c.provider.label}: {c.kind.value} "
            f"{c.old_value or '—'} → {c.new_value or '—'}",
            highlight=False,
            markup=False,
        )
    n = len(changes)
    context.console.print(
        f"{n} change{'s' if n != 1 else ''} will not be proposed again "
        "(`tracekit dismiss --restore ID` proposes one again).",
        highlight=False,
        markup=False,
    )
    return 0


def _restore(ids: list[str], context: CliContext) -> int:
    restored = restore(context.db, ids)
    for change in restored:
        context.console.print(f"{change}  will be proposed again", highlight=False, markup=False)
    missing = [i for i in dict.fromkeys(ids) if i not in restored]
    for change in missing:
        context.err.print(f"{change}: not dismissed", highlight=False, markup=False)
    return 1 if missing else 0
