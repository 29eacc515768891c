"""Secrets stay in the keyring: never in the database, logs, messages or reprs."""

import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import null
from sqlalchemy import select

from tests.fakes.cli import cli, stdin
from tests.fakes.intervals_server import IntervalsFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring, no_system_keyring
from tracekit.credentials import SERVICE, Credentials, CredentialStoreUnavailable
from tracekit.oauth import TokenSet
from tracekit.providers.intervalsicu import IntervalsIcuProvider
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import (
    ConnectFailed,
    connect_intervalsicu,
    connected_providers,
    disconnect,
)
from tracekit.ratelimit import RetryPolicy
from tracekit.store.engine import Database
from tracekit.store.models import ProviderState, ProviderStatus, Setting
from tracekit.sync import sync_provider

SECRET = "k3y-Sup3rSecret-7f9a2c41"


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def no_keyring() -> Iterator[None]:
    with no_system_keyring():
        yield


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[IntervalsFake]:
    """The fake intervals.icu, which every intervals.icu connection in the test then uses."""
    with IntervalsFake() as server:
        monkeypatch.setenv("TRACEKIT_INTERVALSICU_URL", server.url)
        yield server


def run_activity(activity_id: str, day: int) -> dict[str, object]:
    return {
        "id": activity_id,
        "name": f"Run {day}",
        "type": "Run",
        "start_date_local": f"2026-03-{day:02d}T07:00:00",
        "start_date": f"2026-03-{day:02d}T06:00:00Z",
        "timezone": "Europe/Madrid",
        "distance": 10000.0,
        "moving_time": 3000,
        "elapsed_time": 3100,
    }


def test_secrets_round_trip_per_provider_and_a_token_set_is_one_entry(
    memory_keyring: MemoryKeyring,
) -> None:
    credentials = Credentials()
    credentials.save(ProviderName.INTERVALSICU, "api_key", SECRET)
    tokens = TokenSet(access_token="access-1", refresh_token="refresh-1", scope="read")
    credentials.save_json(ProviderName.STRAVA, "oauth", tokens.as_json())
    assert credentials.load(ProviderName.INTERVALSICU, "api_key") == SECRET
    assert set(memory_keyring.entries) == {
        (SERVICE, "intervalsicu:api_key"),
        (SERVICE, "strava:oauth"),
    }
    writes = memory_keyring.writes
    refreshed = TokenSet(access_token="access-2", refresh_token="refresh-2", scope="read")
    credentials.save_json(ProviderName.STRAVA, "oauth", refreshed.as_json())
    assert memory_keyring.writes == writes + 1  # the new set replaced the old one in one write
    loaded = credentials.load_json(ProviderName.STRAVA, "oauth")
    assert loaded is not None and TokenSet.from_json(loaded) == refreshed
    assert "access-2" not in repr(refreshed) and "refresh-2" not in repr(refreshed)
    assert credentials.delete(ProviderName.STRAVA, "oauth") is True
    assert credentials.delete(ProviderName.STRAVA, "oauth") is False
    assert credentials.load_json(ProviderName.STRAVA, "oauth") is None


def test_without_a_keyring_the_message_says_what_to_install(no_keyring: None) -> None:
    with pytest.raises(CredentialStoreUnavailable) as raised:
        Credentials().save(ProviderName.INTERVALSICU, "api_key", SECRET)
    message = str(raised.value)
    assert "keyring" in message
    assert "GNOME Keyring" in message and "KWallet" in message  # this machine is Linux
    assert "keyrings.alt" not in message
    assert SECRET not in message


def test_a_backend_that_drops_secrets_is_refused_rather_than_trusted() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        with pytest.raises(CredentialStoreUnavailable):
            Credentials().save(ProviderName.INTERVALSICU, "api_key", SECRET)
    finally:
        keyring.set_keyring(previous)


def test_connect_without_a_keyring_asks_nothing_stores_nothing_and_explains(
    no_keyring: None,
    fake: IntervalsFake,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.seed(api_keys=[SECRET])
    monkeypatch.setattr("sys.stdin", stdin(SECRET))
    code = cli("--db", str(db_path), "connect", "intervalsicu", "--api-key-stdin")
    assert code == 1
    err = capsys.readouterr().err
    assert "GNOME Keyring" in err and SECRET not in err
    assert fake.requests() == []
    database = Database(f"sqlite:///{db_path}")
    try:
        with database.session() as session:
            assert session.scalars(select(Setting)).all() == []
    finally:
        database.dispose()


def test_a_key_never_reaches_the_database_logs_messages_or_reprs(
    memory_keyring: MemoryKeyring,
    fake: IntervalsFake,
    db: Database,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.seed(api_keys=[SECRET], activities=[run_activity("i1", 1), run_activity("i2", 2)])
    credentials = Credentials()
    connect_intervalsicu(db, credentials, api_key=SECRET, base_url=fake.url)
    providers = connected_providers(db, credentials)
    texts: list[str] = [repr(credentials), repr(providers)]
    provider = providers[ProviderName.INTERVALSICU]
    assert isinstance(provider, IntervalsIcuProvider)
    try:
        report = sync_provider(db, provider)
        assert report.new == 2
        texts.append(repr(report))
        # A failure's message, too: the server refuses the key on the next run.
        fake.fail_next(401, body={"status": 401, "error": "Unauthorized"})
        failed = sync_provider(db, provider, force=True)
        assert failed.message is not None
        texts.append(failed.message)
    finally:
        provider.close()
    with pytest.raises(ConnectFailed) as refused:
        connect_intervalsicu(db, credentials, api_key=SECRET + "x", base_url=fake.url)
    texts.append(str(refused.value))
    db.dispose()
    stored = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert SECRET.encode() not in stored
    records = [r.getMessage() + repr(r.args) + (r.exc_text or "") for r in caplog.records]
    assert records, "the run logged nothing: the check would prove nothing"
    assert not [text for text in records + texts if SECRET in text]
    assert memory_keyring.entries[(SERVICE, "intervalsicu:api_key")] == SECRET


def test_disconnect_removes_the_key_and_marks_the_provider_disconnected(
    memory_keyring: MemoryKeyring, fake: IntervalsFake, db: Database
) -> None:
    fake.seed(api_keys=[SECRET])
    credentials = Credentials()
    connect_intervalsicu(db, credentials, api_key=SECRET, base_url=fake.url)
    assert memory_keyring.entries
    disconnect(db, credentials, ProviderName.INTERVALSICU)
    assert memory_keyring.entries == {}
    assert connected_providers(db, credentials) == {}
    with db.session() as session:
        status = session.get(ProviderStatus, ProviderName.INTERVALSICU)
        assert status is not None and status.state is ProviderState.DISCONNECTED


def test_a_key_gone_from_the_keyring_means_reconnect_needed(
    memory_keyring: MemoryKeyring, fake: IntervalsFake, db: Database
) -> None:
    fake.seed(api_keys=[SECRET])
    credentials = Credentials()
    connect_intervalsicu(db, credentials, api_key=SECRET, base_url=fake.url)
    memory_keyring.entries.clear()  # e.g. the user wiped the keyring
    assert connected_providers(db, credentials) == {}
    with db.session() as session:
        status = session.get(ProviderStatus, ProviderName.INTERVALSICU)
        assert status is not None and status.state is ProviderState.RECONNECT_NEEDED
        assert "keyring" in (status.error or "")


def test_a_provider_with_retries_still_hides_its_key(fake: IntervalsFake) -> None:
    fake.seed(api_keys=[SECRET])
    fake.fail_next(503, times=5)
    with IntervalsIcuProvider(
        api_key=SECRET, base_url=fake.url, retry=RetryPolicy(sleep=lambda _s: None)
    ) as provider:
        assert SECRET not in repr(provider)
        with pytest.raises(Exception) as raised:
            list(provider.pull(None, None))
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)
