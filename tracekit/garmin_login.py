"""Connecting Garmin Connect: e-mail, password and, when Garmin asks, a verification code.

Shared by `tracekit connect garmin` and the settings dialog. `start_login` signs in; when Garmin
sends a code it returns an `MfaChallenge` to pass, with the code, to `finish_login` (the same
library session continues, so keep the challenge in memory; a refused code may be retried on
it). `login` runs both steps for a caller that can ask for the code in the same flow (the CLI).

On success only the library's token store (DI OAuth2 tokens) is kept, in the keyring entry
`garmin:oauth`; the password is never stored, logged or put in a message. Syncs reuse and
refresh that token store and never sign in again.

Garmin throttles sign-ins per account, and trying again early restarts the wait. So a 429 (or
427) is never retried: the provider's status becomes RATE_LIMITED until now + `LOGIN_BACKOFF`
(one hour: Garmin lifts such blocks after about an hour; provider-apis.md §2.3), the message
says when to try again, and any attempt before then is refused without contacting Garmin.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tracekit.credentials import Credentials
from tracekit.providers.connections import record_connection
from tracekit.providers.garmin import TOKEN_KEY
from tracekit.providers.garmin_client import (
    GarminConnectClient,
    GarminFactory,
    LoginFailed,
    LoginRateLimited,
    LoginRefused,
    MfaCodeRefused,
    UnsupportedLibrary,
)
from tracekit.providers.names import ProviderName
from tracekit.ratelimit import Clock, utc_now
from tracekit.store.engine import Database
from tracekit.store.models import (
    Notification,
    NotificationLevel,
    ProviderState,
    ProviderStatus,
)
from tracekit.timezones import as_utc

log = logging.getLogger(__name__)

GARMIN = ProviderName.GARMIN
LOGIN_BACKOFF = timedelta(hours=1)
MFA_ATTEMPTS = 3
NOTHING_SAVED = "Nothing was saved."


class GarminLoginError(Exception):
    """Signing in did not work; the message says why and what to do. Nothing was stored."""


class GarminLoginThrottled(GarminLoginError):
    """Garmin is refusing sign-ins for now; `until` is when to try again."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class GarminMfaCodeRefused(GarminLoginError):
    """The verification code was refused; the challenge still accepts another code."""


@dataclass(frozen=True, slots=True)
class GarminConnected:
    account: str | None
    message: str


class MfaChallenge:
    """A sign-in waiting for the code Garmin sent (by e-mail, text or an app).

    It holds the pending Garmin session: keep it in memory only, and hand it to
    `finish_login` with the code.
    """

    def __init__(
        self, db: Database, credentials: Credentials, client: GarminConnectClient, clock: Clock
    ) -> None:
        self._db = db
        self._credentials = credentials
        self._client = client
        self._clock = clock

    def __repr__(self) -> str:
        return "MfaChallenge(garmin)"

    @property
    def message(self) -> str:
        return "Garmin Connect sent you a verification code; enter it to finish connecting."


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def throttled_until(db: Database, *, clock: Clock = utc_now) -> datetime | None:
    """When Garmin sign-ins may be tried again, or None when they may be tried now."""
    with db.session() as session:
        status = session.get(ProviderStatus, GARMIN)
        until = status.rate_limited_until if status is not None else None
    if until is None:
        return None
    until = as_utc(until)
    return until if until > clock() else None


def _refuse_early(until: datetime) -> GarminLoginThrottled:
    """An attempt while Garmin's last refusal (of a sign-in, or of a sync's requests: its
    throttling spans the whole account) still lasts."""
    return GarminLoginThrottled(
        f"{GARMIN.label} asked Tracekit to wait (too many sign-in attempts or requests). "
        f"Try again after {_when(until)}; trying earlier would start the wait over. "
        f"Garmin was not contacted. {NOTHING_SAVED}",
        until,
    )


def _throttled(db: Database, now: datetime) -> GarminLoginThrottled:
    """Record Garmin's refusal (429) and say when to try again."""
    until = now + LOGIN_BACKOFF
    message = (
        "Garmin Connect refused the sign-in: too many attempts (HTTP 429). Garmin blocks "
        f"sign-ins for about an hour; try again after {_when(until)}. {NOTHING_SAVED}"
    )
    with db.session() as session:
        status = session.get(ProviderStatus, GARMIN)
        if status is None:
            status = ProviderStatus(provider=GARMIN)
            session.add(status)
        status.state = ProviderState.RATE_LIMITED
        status.rate_limited_until = until
        status.error = message
        status.last_operation = "connect"
        status.last_operation_at = now
        session.add(
            Notification(
                created_at=now, level=NotificationLevel.WARNING, message=message, provider=GARMIN
            )
        )
    log.warning("Garmin Connect sign-in rate limited; next attempt after %s", _when(until))
    return GarminLoginThrottled(message, until)


def _connected(
    db: Database, credentials: Credentials, client: GarminConnectClient, now: datetime
) -> GarminConnected:
    """Keep the token store in the keyring and record the connection."""
    credentials.save_json(GARMIN, TOKEN_KEY, json.loads(client.token_store()))
    account = client.account_name()
    message = f"Connected to {GARMIN.label}" + (f" as {account}." if account else ".")
    settings: dict[str, Any] = {"auth": TOKEN_KEY}
    if account:
        settings["account"] = account
    record_connection(db, GARMIN, settings, message, now)
    client.close()
    log.info("Connected to Garmin Connect")
    return GarminConnected(account=account, message=message)


def start_login(
    db: Database,
    credentials: Credentials,
    email: str,
    password: str,
    *,
    factory: GarminFactory | None = None,
    clock: Clock = utc_now,
) -> GarminConnected | MfaChallenge:
    """Sign in to Garmin Connect with e-mail and password.

    Returns `GarminConnected` (the token store is in the keyring) or, when Garmin wants a
    verification code, an `MfaChallenge` for `finish_login`. Raises `GarminLoginThrottled`
    (also without contacting Garmin while an earlier refusal lasts), `GarminLoginError`
    (nothing stored), or `CredentialStoreUnavailable` before contacting Garmin when there is
    no keyring to keep the sign-in in. Runs for tens of seconds: call it off a UI thread.
    """
    email = email.strip()
    if not email or not password:
        raise GarminLoginError("Enter the e-mail address and password of your Garmin account.")
    credentials.load(GARMIN, TOKEN_KEY)  # no keyring: say so before signing in
    blocked = throttled_until(db, clock=clock)
    if blocked is not None:
        raise _refuse_early(blocked)
    try:
        client = GarminConnectClient.sign_in(email, password, factory=factory)
    except LoginRateLimited:
        raise _throttled(db, clock()) from None
    except LoginRefused:
        raise GarminLoginError(
            f"{GARMIN.label} refused this e-mail address or password. Check them (you can "
            f"sign in at connect.garmin.com) and try again. {NOTHING_SAVED}"
        ) from None
    except (LoginFailed, UnsupportedLibrary) as error:
        raise GarminLoginError(f"{error}. {NOTHING_SAVED}") from None
    if client.mfa_pending:
        return MfaChallenge(db, credentials, client, clock)
    return _connected(db, credentials, client, clock())


def finish_login(challenge: MfaChallenge, code: str) -> GarminConnected:
    """Finish a sign-in with the verification code Garmin sent.

    Raises `GarminMfaCodeRefused` for a wrong code (the challenge can take another),
    `GarminLoginThrottled` or `GarminLoginError`; nothing is stored on failure.
    """
    db = challenge._db
    clock = challenge._clock
    if not code.strip():
        raise GarminMfaCodeRefused("Enter the code Garmin sent you.")
    blocked = throttled_until(db, clock=clock)
    if blocked is not None:
        raise _refuse_early(blocked)
    try:
        challenge._client.submit_mfa_code(code)
    except MfaCodeRefused:
        raise GarminMfaCodeRefused(
            f"{GARMIN.label} did not accept that code. Check the newest code Garmin sent "
            f"and enter it again. {NOTHING_SAVED}"
        ) from None
    except LoginRateLimited:
        raise _throttled(db, clock()) from None
    except LoginFailed as error:
        raise GarminLoginError(f"{error}. {NOTHING_SAVED}") from None
    return _connected(db, challenge._credentials, challenge._client, clock())


def login(
    db: Database,
    credentials: Credentials,
    email: str,
    password: str,
    ask_code: Callable[[], str],
    *,
    factory: GarminFactory | None = None,
    clock: Clock = utc_now,
    code_attempts: int = MFA_ATTEMPTS,
    on_refused_code: Callable[[str], None] | None = None,
) -> GarminConnected:
    """Sign in, asking for the verification code in the same flow when Garmin wants one.

    A refused code is reported to `on_refused_code` and asked again, up to `code_attempts`
    codes in all; after that the last refusal is raised.
    """
    result = start_login(db, credentials, email, password, factory=factory, clock=clock)
    if isinstance(result, GarminConnected):
        return result
    for attempt in range(1, code_attempts + 1):
        try:
            return finish_login(result, ask_code())
        except GarminMfaCodeRefused as refused:
            if attempt == code_attempts:
                raise
            if on_refused_code is not None:
                on_refused_code(str(refused))
    raise GarminLoginError(f"No verification code was entered. {NOTHING_SAVED}")
