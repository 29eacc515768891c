"""`tracekit connect PROVIDER` and `tracekit disconnect PROVIDER`.

The API key is asked for without echo on a terminal (or read from standard input with
`--api-key-stdin`), checked with one request, and kept only in the system keyring.
"""

import argparse
import getpass
import sys

from tracekit.cli.context import CliContext
from tracekit.credentials import Credentials, CredentialStoreUnavailable
from tracekit.providers.intervalsicu import SETTINGS_URL
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import ConnectFailed, connect_intervalsicu, disconnect, supported


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    names = [p.value for p in supported()]
    connect = commands.add_parser(
        "connect",
        help="connect a provider; its key is kept in the system keyring",
        description="Connect a provider. The API key is checked with one request and kept "
        "only in the system keyring (never in the database or a file).",
    )
    connect.add_argument("provider", choices=names, metavar="PROVIDER", help=", ".join(names))
    connect.add_argument(
        "--athlete-id",
        default="0",
        metavar="ID",
        help="intervals.icu athlete id such as i12345 (default: the key's own athlete)",
    )
    connect.add_argument(
        "--api-key-stdin",
        action="store_true",
        help="read the API key from standard input instead of asking for it",
    )
    connect.set_defaults(handler=run)
    remove = commands.add_parser(
        "disconnect",
        help="forget a provider's key (and with --forget, its activities)",
    )
    remove.add_argument("provider", choices=names, metavar="PROVIDER", help=", ".join(names))
    remove.add_argument(
        "--forget",
        action="store_true",
        help="also delete everything pulled from this provider from the local database",
    )
    remove.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    try:
        if args.command == "disconnect":
            return _disconnect(args, context)
        return _connect(args, context)
    except CredentialStoreUnavailable as error:
        context.err.print(str(error), markup=False, highlight=False, soft_wrap=True)
        return 1


def _read_key(args: argparse.Namespace, context: CliContext) -> str | None:
    if args.api_key_stdin:
        return sys.stdin.readline().strip()
    if not sys.stdin.isatty():
        context.err.print(
            "No terminal to ask for the API key on: pass it on standard input with "
            "--api-key-stdin.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return None
    context.err.print(
        f"Your intervals.icu API key is at the bottom of {SETTINGS_URL} (Developer Settings).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return getpass.getpass("API key (not shown): ").strip()


def _connect(args: argparse.Namespace, context: CliContext) -> int:
    provider = ProviderName(args.provider)
    credentials = Credentials()
    credentials.load(provider, "api_key")  # no keyring: say so before asking for the key
    key = _read_key(args, context)
    if key is None:
        return 2
    try:
        connected = connect_intervalsicu(
            context.db, credentials, api_key=key, athlete_id=args.athlete_id
        )
    except ConnectFailed as error:
        context.err.print(str(error), markup=False, highlight=False, soft_wrap=True)
        return 1
    context.console.print(connected.message, markup=False, highlight=False, soft_wrap=True)
    context.console.print(
        f"Run `tracekit sync {provider.value}` to pull your activities.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _disconnect(args: argparse.Namespace, context: CliContext) -> int:
    provider = ProviderName(args.provider)
    forgot = disconnect(context.db, Credentials(), provider, forget=args.forget)
    message = f"Disconnected {provider.label}; its key was removed from the keyring."
    if forgot is not None:
        message += (
            f" Deleted {forgot.records} records and {forgot.activities_removed} activities "
            "that only it had."
        )
    context.console.print(message, markup=False, highlight=False, soft_wrap=True)
    return 0
