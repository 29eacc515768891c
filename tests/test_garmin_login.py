"""Connecting Garmin Connect: Tracekit's login flow at its boundary with garminconnect.

The library's sign-in is played by `tests.fakes.garmin_library.StandInGarmin` (why is said
there).
"""

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from garminconnect import (
    GarminConnectAuthenticationError,
    GarminConnectConnectionError,
    GarminConnectTooManyRequestsError,
)
from sqlalchemy import select

from tests.fakes.garmin_library import ACCESS, CODE, Garmin
from tests.fakes.garmin_server import CLIENT_ID, GarminFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring, no_system_keyring
from tracekit.credentials import SERVICE, Credentials, CredentialStoreUnavailable
from tracekit.garmin_login import (
    LOGIN_BACKOFF,
    GarminConnected,
    GarminLoginError,
    GarminLoginThrottled,
    GarminMfaCodeRefused,
    MfaChallenge,
    finish_login,
    login,
    start_login,
)
from tracekit.providers.garmin import build_garmin
from tracekit.providers.names import ProviderName
from tracekit.store.engine import Database
from tracekit.store.models import (
    Notification,
    NotificationLevel,
    ProviderState,
    ProviderStatus,
    Setting,
)

EMAIL = "ada@example.org"
PASSWORD = "correct horse battery staple 7!"
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _files_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _status(db: Database) -> ProviderStatus | None:
    with db.session() as session:
        status = session.get(ProviderStatus, ProviderName.GARMIN)
        if status is not None:
            session.expunge(status)
        return status


def _connection(db: Database) -> dict[str, Any] | None:
    with db.session() as session:
        row = session.get(Setting, "provider.garmin")
        return dict(row.value) if row is not None else None


def test_signing_in_keeps_only_the_token_store_in_the_keyring_never_the_password(
    memory_keyring: MemoryKeyring,
    db: Database,
    db_path: Path,
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    garmin = Garmin()

    result = start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)

    assert isinstance(result, GarminConnected)
    assert result.message == "Connected to Garmin Connect as Ada Runner."
    assert garmin.made == [
        {"email": EMAIL, "password": PASSWORD, "return_on_mfa": True, "retry_attempts": 0}
    ]
    assert list(memory_keyring.entries) == [(SERVICE, "garmin:oauth")]
    kept = json.loads(memory_keyring.entries[(SERVICE, "garmin:oauth")])
    assert kept == json.loads(garmin.tokens)
    assert _connection(db) == {"auth": "oauth", "account": "Ada Runner"}
    status = _status(db)
    assert status is not None and status.state is ProviderState.OK
    # The password is nowhere: not in the keyring, the database files or the logs.
    assert all(PASSWORD not in secret for secret in memory_keyring.entries.values())
    db.dispose()
    assert PASSWORD.encode() not in _files_under(db_path.parent)
    assert PASSWORD not in everything_logged.text


def test_after_connecting_a_sync_uses_the_kept_sign_in_without_signing_in_again(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin()
    start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)
    settings = _connection(db)
    assert settings is not None
    with GarminFake() as fake:
        fake.seed(access_tokens=[ACCESS], refresh_tokens={"refresh-1": CLIENT_ID})
        provider = build_garmin(settings, Credentials(), base_url=fake.url)
        assert provider is not None
        with provider:
            assert provider.gear() == []
        assert {r["auth"] for r in fake.requests()} == {"bearer"}
    assert garmin.calls == [("login", EMAIL)]  # once, when connecting


def test_a_verification_code_is_asked_in_the_same_flow_and_finishes_the_same_session(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(needs_mfa=True)
    asked: list[str] = []

    def ask_code() -> str:
        asked.append("code")
        return CODE

    result = login(db, Credentials(), EMAIL, PASSWORD, ask_code, factory=garmin.factory)

    assert result.message == "Connected to Garmin Connect as Ada Runner."
    assert asked == ["code"]
    assert garmin.calls == [("login", EMAIL), ("resume", CODE)]
    assert len(garmin.made) == 1  # resumed on the instance that started the sign-in
    assert list(memory_keyring.entries) == [(SERVICE, "garmin:oauth")]


def test_a_wrong_code_is_said_clearly_and_another_may_be_tried_on_the_same_challenge(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(needs_mfa=True)
    challenge = start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)
    assert isinstance(challenge, MfaChallenge)

    with pytest.raises(GarminMfaCodeRefused, match="did not accept that code") as refused:
        finish_login(challenge, "000000")

    assert "Nothing was saved" in str(refused.value)
    assert memory_keyring.entries == {} and _connection(db) is None
    assert finish_login(challenge, CODE).account == "Ada Runner"
    assert list(memory_keyring.entries) == [(SERVICE, "garmin:oauth")]


def test_wrong_codes_every_time_end_the_flow_and_store_nothing(
    memory_keyring: MemoryKeyring, db: Database, everything_logged: pytest.LogCaptureFixture
) -> None:
    garmin = Garmin(needs_mfa=True)
    told: list[str] = []

    with pytest.raises(GarminMfaCodeRefused, match="did not accept that code"):
        login(
            db,
            Credentials(),
            EMAIL,
            PASSWORD,
            lambda: "111111",
            factory=garmin.factory,
            on_refused_code=told.append,
        )

    assert [c for c, _ in garmin.calls] == ["login", "resume", "resume", "resume"]
    assert len(told) == 2 and all("did not accept" in m for m in told)
    assert memory_keyring.entries == {} and _connection(db) is None
    assert PASSWORD not in everything_logged.text


def test_a_refused_password_is_said_without_repeating_it_and_nothing_is_stored(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(login_error=GarminConnectAuthenticationError("401 Unauthorized"))

    with pytest.raises(GarminLoginError, match="refused this e-mail address or password") as no:
        start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)

    assert PASSWORD not in str(no.value) and "Nothing was saved" in str(no.value)
    assert memory_keyring.entries == {} and _connection(db) is None and _status(db) is None


def test_a_library_failure_is_reported_with_the_password_scrubbed_from_its_text(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(
        login_error=GarminConnectConnectionError(f"Login failed: bad form field {PASSWORD}")
    )

    with pytest.raises(GarminLoginError, match="could not sign in to Garmin Connect") as failed:
        start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)

    assert PASSWORD not in str(failed.value) and "***" in str(failed.value)
    assert memory_keyring.entries == {}


def test_a_throttled_sign_in_is_not_retried_and_the_next_try_waits_an_hour(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(login_error=GarminConnectTooManyRequestsError("Too many login attempts"))
    until = NOW + LOGIN_BACKOFF

    with pytest.raises(GarminLoginThrottled) as throttled:
        start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory, clock=lambda: NOW)

    assert garmin.calls == [("login", EMAIL)]  # one attempt, no retry
    assert throttled.value.until == until
    assert "try again after 2026-06-01 10:00 UTC" in str(throttled.value)
    status = _status(db)
    assert status is not None and status.state is ProviderState.RATE_LIMITED
    assert status.rate_limited_until == until and status.error == str(throttled.value)
    with db.session() as session:
        (note,) = session.scalars(select(Notification)).all()
        assert note.level is NotificationLevel.WARNING and "10:00 UTC" in note.message
    assert memory_keyring.entries == {} and _connection(db) is None

    soon = NOW + timedelta(minutes=20)
    with pytest.raises(GarminLoginThrottled, match="Garmin was not contacted") as again:
        start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory, clock=lambda: soon)
    assert "2026-06-01 10:00 UTC" in str(again.value)
    assert len(garmin.made) == 1 and len(garmin.calls) == 1  # the stand-in was not asked

    garmin.login_error = None
    later = until + timedelta(minutes=1)
    result = start_login(
        db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory, clock=lambda: later
    )
    assert isinstance(result, GarminConnected)
    status = _status(db)
    assert status is not None and status.state is ProviderState.OK
    assert status.rate_limited_until is None


def test_a_throttled_code_check_is_recorded_the_same_way(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin(
        needs_mfa=True,
        resume_error=GarminConnectTooManyRequestsError("MFA verification rate limited"),
    )
    challenge = start_login(
        db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory, clock=lambda: NOW
    )
    assert isinstance(challenge, MfaChallenge)

    with pytest.raises(GarminLoginThrottled, match="try again after 2026-06-01 10:00 UTC"):
        finish_login(challenge, CODE)

    status = _status(db)
    assert status is not None and status.state is ProviderState.RATE_LIMITED
    with pytest.raises(GarminLoginThrottled, match="Garmin was not contacted"):
        finish_login(challenge, CODE)
    assert [c for c, _ in garmin.calls] == ["login", "resume"]


def test_without_a_keyring_garmin_is_not_contacted(db: Database) -> None:
    garmin = Garmin()
    with no_system_keyring(), pytest.raises(CredentialStoreUnavailable):
        start_login(db, Credentials(), EMAIL, PASSWORD, factory=garmin.factory)
    assert garmin.made == []


def test_an_empty_password_is_refused_before_asking_garmin(
    memory_keyring: MemoryKeyring, db: Database
) -> None:
    garmin = Garmin()
    with pytest.raises(GarminLoginError, match="e-mail address and password"):
        start_login(db, Credentials(), EMAIL, "", factory=garmin.factory)
    assert garmin.made == []
