"""`tracekit sync [PROVIDER ...]`: pull connected providers into the local database."""

import argparse
import json
from functools import partial
from typing import Any

from tracekit.cli.context import CliContext
from tracekit.credentials import Credentials, CredentialStoreUnavailable
from tracekit.linking import rematch_records
from tracekit.providers.base import Provider
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import connected_providers, supported
from tracekit.sync import RecordsChanged, StopReason, SyncReport, sync_provider


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    names = ", ".join(p.value for p in supported())
    parser = commands.add_parser(
        "sync",
        description="Pull activities and gear from connected providers. The first sync reads "
        "the whole history (and continues where it stopped if interrupted); later ones read "
        "only what is new.",
    )
    parser.add_argument(
        "providers", nargs="*", metavar="PROVIDER", help=f"which providers (default: all; {names})"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="read the whole history again, even while a rate limit is in force",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def records_changed_hook(context: CliContext) -> RecordsChanged:
    """What runs on the ids of new and changed records after each stored batch: the matcher."""
    return partial(rematch_records, context.db)


def run(args: argparse.Namespace, context: CliContext) -> int:
    wanted: list[ProviderName] = []
    for value in args.providers:
        try:
            wanted.append(ProviderName(value))
        except ValueError:
            context.err.print(
                f"Unknown provider {value!r}.", markup=False, highlight=False, soft_wrap=True
            )
            return 2
    try:
        connected = connected_providers(context.db, Credentials())
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), markup=False, highlight=False, soft_wrap=True)
        return 1
    try:
        return _sync_all(args, context, connected, wanted)
    finally:
        for provider in connected.values():
            close = getattr(provider, "close", None)
            if callable(close):
                close()


def _sync_all(
    args: argparse.Namespace,
    context: CliContext,
    connected: dict[ProviderName, Provider],
    wanted: list[ProviderName],
) -> int:
    names = wanted or list(connected)
    if not names:
        if args.json:
            context.console.print_json(json.dumps({"providers": {}}))
        else:
            context.console.print(
                "No provider is connected: try `tracekit connect intervalsicu`.",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return 0
    reports: list[SyncReport] = []
    for name in names:
        provider = connected.get(name)
        if provider is None:
            reports.append(
                SyncReport(
                    provider=name,
                    stopped=StopReason.RECONNECT_NEEDED,
                    message=f"{name.label} is not connected",
                    requests=0,
                )
            )
            continue
        reports.append(_sync_one(args, context, provider))
    if args.json:
        payload: dict[str, Any] = {"providers": {r.provider.value: r.as_json() for r in reports}}
        context.console.print_json(json.dumps(payload))
    else:
        for report in reports:
            _print_report(report, context)
    return 1 if any(report.failed for report in reports) else 0


def _sync_one(args: argparse.Namespace, context: CliContext, provider: Provider) -> SyncReport:
    hook = records_changed_hook(context)
    if context.err.is_terminal and not args.json:
        with context.err.status(f"Syncing {provider.name.label}…") as status:
            return sync_provider(
                context.db,
                provider,
                force=args.force,
                progress=lambda _done, text: status.update(f"Syncing {text}…"),
                on_records_changed=hook,
            )
    return sync_provider(context.db, provider, force=args.force, on_records_changed=hook)


def _print_report(report: SyncReport, context: CliContext) -> None:
    label = report.provider.label
    counts = f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged"
    if report.requests is not None:
        counts += f" ({report.requests} request{'' if report.requests == 1 else 's'})"
    out = context.console if not report.failed else context.err
    if report.stopped is None:
        out.print(f"{label}: {counts}", markup=False, highlight=False, soft_wrap=True)
        return
    if report.stopped is StopReason.FRESH:
        out.print(
            report.message or f"{label}: up to date", markup=False, highlight=False, soft_wrap=True
        )
        return
    out.print(f"{label}: {counts}; stopped.", markup=False, highlight=False, soft_wrap=True)
    if report.message:
        out.print(f"  {report.message}", markup=False, highlight=False, soft_wrap=True)
    if report.stopped is StopReason.RATE_LIMITED and report.rate_limited_until is not None:
        out.print(
            f"  Run `tracekit sync` again after {report.rate_limited_until:%H:%M} UTC; "
            "it continues where it stopped.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    elif report.stopped is StopReason.RECONNECT_NEEDED:
        out.print(
            f"  Connect again with `tracekit connect {report.provider.value}`.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
