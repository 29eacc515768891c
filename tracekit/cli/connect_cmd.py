"""`tracekit connect PROVIDER` and `tracekit disconnect PROVIDER`.

A secret (API key, client secret, password) is asked for without echo on a terminal, or read
from standard input with its `--…-stdin` flag (one line each, in the order the flags are
listed in `--help`); it is checked with the provider and kept only in the system keyring. A
provider that uses OAuth opens the browser on its consent page and prints the address too.
`_CONNECTORS` maps each provider to its connect flow: add a provider there.
"""

import argparse
import getpass
import sys
import webbrowser
from collections.abc import Callable

from tracekit.cli.context import CliContext
from tracekit.credentials import Credentials, CredentialStoreUnavailable
from tracekit.providers import ridewithgps, strava
from tracekit.providers.intervalsicu import SETTINGS_URL
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import (
    Connected,
    ConnectFailed,
    connect_garmin,
    connect_intervalsicu,
    connect_ridewithgps,
    connect_ridewithgps_oauth,
    connect_strava,
    disconnect,
    supported,
)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    names = [p.value for p in supported()]
    connect = commands.add_parser(
        "connect",
        description="Connect a provider. The API key is checked with one request and kept "
        "only in the system keyring (never in the database or a file). Strava: bring your own "
        f"API application ({strava.SETTINGS_URL}); {strava.SUBSCRIPTION_NOTE}",
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
    connect.add_argument(
        "--client-id",
        metavar="ID",
        help="Strava, or RideWithGPS with --oauth: the client id of your own API application",
    )
    connect.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the application's client secret from standard input",
    )
    connect.add_argument(
        "--email",
        metavar="EMAIL",
        help="RideWithGPS or Garmin Connect: your account's email (the password is asked for, "
        "used once to sign in, and never stored)",
    )
    connect.add_argument(
        "--password-stdin",
        action="store_true",
        help="RideWithGPS or Garmin Connect: read the password from standard input (after the "
        "API key, when --api-key-stdin is given too; for Garmin the MFA code, when asked, is "
        "read from the next line)",
    )
    connect.add_argument(
        "--oauth",
        action="store_true",
        help="RideWithGPS: authorise in the browser with your own API client instead",
    )
    connect.set_defaults(handler=run)
    remove = commands.add_parser("disconnect")
    remove.add_argument("provider", choices=names, metavar="PROVIDER", help=", ".join(names))
    remove.add_argument(
        "--forget",
        action="store_true",
        help="also delete everything pulled from this provider from the local database "
        "(always done for Strava, as its API terms require)",
    )
    remove.set_defaults(handler=run)


def run(args: argparse.Namespace, context: CliContext) -> int:
    try:
        if args.command == "disconnect":
            return _disconnect(args, context)
        return _connect(args, context)
    except CredentialStoreUnavailable as error:
        _say(context, str(error))
        return 1


def _say(context: CliContext, text: str) -> None:
    context.err.print(text, markup=False, highlight=False, soft_wrap=True)


def _secret(
    args: argparse.Namespace, context: CliContext, flag: str, what: str, hint: str | None
) -> str | None:
    """A secret from standard input (with `--flag`) or asked for without echo; None when
    there is neither (a message says which flag to use)."""
    if getattr(args, flag.removeprefix("--").replace("-", "_")):
        return sys.stdin.readline().strip()
    if not sys.stdin.isatty():
        _say(
            context,
            f"No terminal to ask for the {what} on: pass it on standard input with {flag}.",
        )
        return None
    if hint:
        _say(context, hint)
    return getpass.getpass(f"{what[:1].upper()}{what[1:]} (not shown): ").strip()


def _open_browser(url: str) -> bool:
    return webbrowser.open(url)


Connector = Callable[[argparse.Namespace, CliContext, Credentials], Connected | None]


def _connect_intervalsicu(
    args: argparse.Namespace, context: CliContext, credentials: Credentials
) -> Connected | None:
    hint = f"Your intervals.icu API key is at the bottom of {SETTINGS_URL} (Developer Settings)."
    key = _secret(args, context, "--api-key-stdin", "API key", hint)
    if key is None:
        return None
    return connect_intervalsicu(context.db, credentials, api_key=key, athlete_id=args.athlete_id)


def _connect_strava(
    args: argparse.Namespace, context: CliContext, credentials: Credentials
) -> Connected | None:
    _say(context, strava.SUBSCRIPTION_NOTE)
    if not args.client_id:
        _say(
            context,
            f"Tracekit connects to Strava through your own API application: create one at "
            f"{strava.SETTINGS_URL} with 127.0.0.1 as its Authorization Callback Domain, then "
            "run `tracekit connect strava --client-id ID` (the client secret is asked for).",
        )
        return None
    hint = f"The client secret of your application is at {strava.SETTINGS_URL}."
    secret = _secret(args, context, "--client-secret-stdin", "client secret", hint)
    if secret is None:
        return None
    _say(
        context,
        "Allow Tracekit on Strava's page in your browser (your application's Authorization "
        "Callback Domain must be 127.0.0.1).",
    )
    return connect_strava(
        context.db,
        credentials,
        client_id=args.client_id,
        client_secret=secret,
        opener=_open_browser,
        on_url=lambda url: _say(context, f"If no browser opens, visit:\n{url}"),
    )


def _connect_ridewithgps(
    args: argparse.Namespace, context: CliContext, credentials: Credentials
) -> Connected | None:
    if args.oauth:
        if not args.client_id:
            _say(
                context,
                f"Pass --client-id with the id of your API client ({ridewithgps.SETTINGS_URL}); "
                "its redirect URI must be http://127.0.0.1 (any port).",
            )
            return None
        secret = _secret(args, context, "--client-secret-stdin", "client secret", None)
        if secret is None:
            return None
        return connect_ridewithgps_oauth(
            context.db,
            credentials,
            client_id=args.client_id,
            client_secret=secret,
            opener=_open_browser,
            on_url=lambda url: _say(context, f"If no browser opens, visit:\n{url}"),
        )
    if not args.email:
        _say(context, "Pass --email with your RideWithGPS account's email address.")
        return None
    hint = f"Your RideWithGPS API key is at {ridewithgps.SETTINGS_URL}."
    key = _secret(args, context, "--api-key-stdin", "API key", hint)
    if key is None:
        return None
    hint = "The password is used once, to get an auth token; it is never stored."
    password = _secret(args, context, "--password-stdin", "password", hint)
    if password is None:
        return None
    return connect_ridewithgps(
        context.db, credentials, api_key=key, email=args.email, password=password
    )


# Each provider's connect flow; a provider without one cannot be connected from the CLI yet.
def _connect_garmin(
    args: argparse.Namespace, context: CliContext, credentials: Credentials
) -> Connected | None:
    email = args.email
    if not email and sys.stdin.isatty():
        email = input("Garmin Connect e-mail: ").strip()
    if not email:
        _say(context, "Give the e-mail address of your Garmin account with --email.")
        return None
    hint = "The password is used once, to sign in; it is never stored."
    password = _secret(args, context, "--password-stdin", "Garmin Connect password", hint)
    if password is None:
        return None
    _say(context, "Signing in to Garmin Connect (this can take a minute)…")

    def ask_code() -> str:
        _say(context, "Garmin sent you a verification code (by e-mail, text or app).")
        if sys.stdin.isatty():
            return input("Verification code: ").strip()
        return sys.stdin.readline().strip()

    return connect_garmin(
        context.db,
        credentials,
        email=email,
        password=password,
        ask_code=ask_code,
        on_refused_code=lambda message: _say(context, message),
    )


_CONNECTORS: dict[ProviderName, Connector] = {
    ProviderName.INTERVALSICU: _connect_intervalsicu,
    ProviderName.STRAVA: _connect_strava,
    ProviderName.RIDEWITHGPS: _connect_ridewithgps,
    ProviderName.GARMIN: _connect_garmin,
}


def _connect(args: argparse.Namespace, context: CliContext) -> int:
    provider = ProviderName(args.provider)
    connector = _CONNECTORS.get(provider)
    if connector is None:
        _say(context, f"Connecting {provider.label} from the command line is not possible yet.")
        return 2
    credentials = Credentials()
    credentials.load(provider, "api_key")  # no keyring: say so before asking for anything
    try:
        connected = connector(args, context, credentials)
    except ConnectFailed as error:
        _say(context, str(error))
        return 1
    if connected is None:
        return 2
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
    done = disconnect(context.db, Credentials(), provider, forget=args.forget)
    context.console.print(done.message, markup=False, highlight=False, soft_wrap=True)
    return 0
