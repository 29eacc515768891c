"""Which providers are connected, and connecting or disconnecting one.

Secrets live in the keyring (`tracekit.credentials`); what is not secret (the athlete id, how
the provider authenticates) is a `Setting` row named `provider.<name>`. The CLI and the settings
dialog both call `connect_*` / `disconnect` here. `_BUILDERS` is the one place a provider type
plugs in: add Strava, RideWithGPS, Garmin or the spreadsheet there with its own builder.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tracekit.credentials import Credentials
from tracekit.oauth import TokenSet
from tracekit.providers.base import Provider, ProviderError, ReconnectNeeded
from tracekit.providers.intervalsicu import DEFAULT_BASE_URL, SETTINGS_URL, IntervalsIcuProvider
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import (
    Notification,
    NotificationLevel,
    ProviderState,
    ProviderStatus,
    Setting,
)
from tracekit.sync import ForgetReport, forget_provider

API_KEY = "api_key"
OAUTH = "oauth"
# A base URL other than the real service (a self-hosted proxy, or a fake server in tests).
BASE_URL_ENV = {ProviderName.INTERVALSICU: "TRACEKIT_INTERVALSICU_URL"}
# Strava's API terms: all of a user's Strava data goes when they disconnect.
FORGET_ON_DISCONNECT = frozenset({ProviderName.STRAVA})


class ConnectFailed(Exception):
    """Connecting did not work; the message says why and what to do. Nothing was stored."""


def _setting_key(provider: ProviderName) -> str:
    return f"provider.{provider.value}"


def connection_settings(session: Session, provider: ProviderName) -> dict[str, Any] | None:
    row = session.get(Setting, _setting_key(provider))
    return dict(row.value) if row is not None and isinstance(row.value, dict) else None


def _base_url(provider: ProviderName, default: str) -> str:
    env = BASE_URL_ENV.get(provider)
    return (os.environ.get(env) if env else None) or default


# -- building providers from what is stored -------------------------------------------------


def _build_intervalsicu(settings: dict[str, Any], credentials: Credentials) -> Provider | None:
    stored = settings.get("base_url")
    base_url = _base_url(ProviderName.INTERVALSICU, stored if isinstance(stored, str) else "")
    base_url = base_url or DEFAULT_BASE_URL
    athlete_id = str(settings.get("athlete_id") or "0")
    if settings.get("auth") == OAUTH:
        blob = credentials.load_json(ProviderName.INTERVALSICU, OAUTH)
        if blob is None or "access_token" not in blob:
            return None
        tokens = TokenSet.from_json(blob)
        # intervals.icu documents no token expiry or refresh: a 401 means connect again.
        return IntervalsIcuProvider(
            access_token=tokens.access_token, athlete_id=athlete_id, base_url=base_url
        )
    key = credentials.load(ProviderName.INTERVALSICU, API_KEY)
    if not key:
        return None
    return IntervalsIcuProvider(api_key=key, athlete_id=athlete_id, base_url=base_url)


Builder = Callable[[dict[str, Any], Credentials], Provider | None]

# The single place each provider type plugs in (Strava, RideWithGPS, Garmin, spreadsheet: add
# a builder here and a connect_* function below).
_BUILDERS: dict[ProviderName, Builder] = {
    ProviderName.INTERVALSICU: _build_intervalsicu,
}


def supported() -> tuple[ProviderName, ...]:
    return tuple(_BUILDERS)


def _missing_secret(session: Session, provider: ProviderName) -> None:
    status = session.get(ProviderStatus, provider)
    if status is None:
        status = ProviderStatus(provider=provider)
        session.add(status)
    if status.state is not ProviderState.RECONNECT_NEEDED:
        message = f"{provider.label}: its key is missing from the system keyring; connect again"
        status.state = ProviderState.RECONNECT_NEEDED
        status.error = message
        session.add(
            Notification(
                created_at=datetime.now(UTC),
                level=NotificationLevel.ERROR,
                message=message,
                provider=provider,
            )
        )


def connected_providers(
    store: Database | Session, credentials: Credentials
) -> dict[ProviderName, Provider]:
    """A ready provider for each connection whose secret is in the keyring.

    A connection whose secret has gone from the keyring is left out and its status set to
    "reconnect needed". Raises `CredentialStoreUnavailable` when there is no keyring at all.
    """
    if isinstance(store, Database):
        with store.session() as session:
            return _connected(session, credentials)
    return _connected(store, credentials)


def _connected(session: Session, credentials: Credentials) -> dict[ProviderName, Provider]:
    providers: dict[ProviderName, Provider] = {}
    for name, build in _BUILDERS.items():
        settings = connection_settings(session, name)
        if settings is None:
            continue
        provider = build(settings, credentials)
        if provider is None:
            _missing_secret(session, name)
            continue
        providers[name] = provider
    return providers


# -- connecting -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    provider: ProviderName
    athlete_id: str | None
    message: str


def _record_connection(
    db: Database, provider: ProviderName, settings: dict[str, Any], message: str
) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(Setting, _setting_key(provider))
        if row is None:
            session.add(Setting(key=_setting_key(provider), value=settings))
        else:
            row.value = settings
        status = session.get(ProviderStatus, provider)
        if status is None:
            status = ProviderStatus(provider=provider)
            session.add(status)
        status.state = ProviderState.OK
        status.error = None
        status.rate_limited_until = None
        status.last_operation = "connect"
        status.last_operation_at = now
        status.last_success_at = now
        session.add(
            Notification(
                created_at=now,
                level=NotificationLevel.INFO,
                message=message,
                provider=provider,
            )
        )


def connect_intervalsicu(
    db: Database,
    credentials: Credentials,
    *,
    api_key: str | None = None,
    tokens: TokenSet | None = None,
    athlete_id: str = "0",
    base_url: str | None = None,
) -> Connected:
    """Check the API key (or OAuth tokens) with one request, then keep it in the keyring.

    Raises `ConnectFailed` (nothing stored) when intervals.icu refuses it or cannot be asked,
    and `CredentialStoreUnavailable` when there is no keyring to keep it in.
    """
    name = ProviderName.INTERVALSICU
    api_key = api_key.strip() if api_key else None
    if not api_key and tokens is None:
        raise ConnectFailed(
            f"No API key given: copy yours from {SETTINGS_URL} (Developer Settings)."
        )
    # Fail on a missing keyring before asking the network anything.
    credentials.load(name, API_KEY)
    athlete_id = athlete_id.strip() or "0"
    url = base_url or _base_url(name, DEFAULT_BASE_URL)
    provider = (
        IntervalsIcuProvider(api_key=api_key, athlete_id=athlete_id, base_url=url)
        if api_key
        else IntervalsIcuProvider(
            access_token=tokens.access_token if tokens else None,
            athlete_id=athlete_id,
            base_url=url,
        )
    )
    try:
        seen_athlete = provider.check()
    except ReconnectNeeded as error:
        if "(403)" in str(error):
            message = (
                f"{name.label} denied access to athlete {athlete_id!r}: check the athlete id "
                f"on {SETTINGS_URL}, or leave it out. Nothing was saved."
            )
        else:
            message = (
                f"{name.label} refused this API key. Copy the key from {SETTINGS_URL} "
                "(Developer Settings) and try again. Nothing was saved."
            )
        raise ConnectFailed(message) from None
    except ProviderError as error:
        raise ConnectFailed(f"{error}. Nothing was saved.") from None
    finally:
        provider.close()
    if api_key:
        credentials.save(name, API_KEY, api_key)
        credentials.delete(name, OAUTH)
        auth = API_KEY
    else:
        assert tokens is not None
        credentials.save_json(name, OAUTH, tokens.as_json())
        credentials.delete(name, API_KEY)
        auth = OAUTH
    athlete = athlete_id if athlete_id != "0" else (seen_athlete or None)
    who = f" as athlete {athlete}" if athlete else ""
    message = f"Connected to {name.label}{who}."
    settings: dict[str, Any] = {"auth": auth, "athlete_id": athlete_id}
    if base_url and base_url.rstrip("/") != DEFAULT_BASE_URL:
        settings["base_url"] = base_url.rstrip("/")  # a proxy or a test server, given explicitly
    _record_connection(db, name, settings, message)
    return Connected(provider=name, athlete_id=athlete, message=message)


def disconnect(
    db: Database, credentials: Credentials, provider: ProviderName, *, forget: bool = False
) -> ForgetReport | None:
    """Remove the provider's secrets and connection; its local data too when `forget` (always
    for Strava). Safe to call when it is not connected."""
    for key in (API_KEY, OAUTH):
        credentials.delete(provider, key)
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(Setting, _setting_key(provider))
        if row is not None:
            session.delete(row)
        status = session.get(ProviderStatus, provider)
        if status is None:
            status = ProviderStatus(provider=provider)
            session.add(status)
        status.state = ProviderState.DISCONNECTED
        status.error = None
        status.rate_limited_until = None
        status.last_operation = "disconnect"
        status.last_operation_at = now
    if forget or provider in FORGET_ON_DISCONNECT:
        return forget_provider(db, provider)
    return None
