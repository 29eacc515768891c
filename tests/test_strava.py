"""Strava end to end: stravalib talking HTTP to a fake Strava on 127.0.0.1 (never the internet).

The clock the fake and the provider share is a test clock, moved forward instead of waited
for; retry back-off and upload polling sleep into recorders, never for real.
"""

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.fakes import import_fit
from tests.fakes.browser import Browser
from tests.fakes.cli import cli, stdin
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tests.fakes.strava_server import ALL_SCOPES, StravaFake, strava_activity
from tracekit.apply import OutcomeStatus, apply
from tracekit.changes import ChangeKind
from tracekit.credentials import SERVICE, Credentials
from tracekit.oauth import TokenSet
from tracekit.proposals import propose
from tracekit.providers.base import Capability, ProviderError, RateLimited, ReconnectNeeded
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import (
    ConnectFailed,
    connect_strava,
    connected_providers,
    disconnect,
)
from tracekit.providers.strava import StravaProvider
from tracekit.ratelimit import RetryPolicy
from tracekit.settings import Settings
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    Gear,
    JournalEntry,
    Notification,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    Setting,
    SyncState,
)
from tracekit.sync import StopReason, sync_month, sync_provider

STRAVA = ProviderName.STRAVA
CLIENT_ID = "4242"
SECRET = "strava-app-secret-0001"
ZONES = ("Europe/Madrid", "America/New_York", "Asia/Tokyo", "America/Los_Angeles")
BIKES = [{"id": "b1", "name": "Road bike", "primary": True}, {"id": "b2", "name": "Gravel bike"}]
SHOES = [{"id": "g7", "name": "Trail shoes"}]
LIST = r"/athlete/activities$"


class Clock:
    """The time the fake, the sync and the provider see; tests move it instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Sleeps:
    """Stands in for time.sleep: records the waits, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def history(now: datetime, count: int, first_id: int = 7000) -> list[dict[str, Any]]:
    """One ride a day going back `count` days, in zones around the world, from a Garmin."""
    return [
        strava_activity(
            first_id + n,
            now - timedelta(days=n, hours=5),
            ZONES[n % len(ZONES)],
            gear_id="b1",
            external_id=f"garmin_push_{900_000 + n}",
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def fake(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[StravaFake]:
    with StravaFake(clock=clock) as server:
        monkeypatch.setenv("TRACEKIT_STRAVA_URL", server.url)
        server.seed(apps={CLIENT_ID: SECRET}, bikes=BIKES, shoes=SHOES)
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def polls() -> Sleeps:
    return Sleeps()


@pytest.fixture
def saved() -> list[TokenSet]:
    return []


@pytest.fixture
def provider(
    fake: StravaFake, clock: Clock, sleeps: Sleeps, polls: Sleeps, saved: list[TokenSet]
) -> Iterator[StravaProvider]:
    fake.grant("access-1", "refresh-1")
    tokens = TokenSet(
        access_token="access-1",
        refresh_token="refresh-1",
        expires_at=clock.now + timedelta(hours=6),
        scope=ALL_SCOPES,
    )
    with StravaProvider(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        tokens=tokens,
        base_url=fake.url,
        clock=clock,
        retry=RetryPolicy(sleep=sleeps),
        sleep=polls,
        on_tokens=saved.append,
    ) as client:
        yield client


def connect(db: Database, browser: Browser | None = None) -> str:
    """Connect through the consent page, as the user does; the connection's message."""
    connected = connect_strava(
        db, Credentials(), client_id=CLIENT_ID, client_secret=SECRET, opener=browser or Browser()
    )
    return connected.message


def strava_ids(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ProviderRecord.provider_id).where(ProviderRecord.provider == STRAVA)
            )
        )


def count(db: Database, model: type[Any]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def status_of(db: Database) -> ProviderStatus:
    with db.session() as session:
        status = session.get(ProviderStatus, STRAVA)
        assert status is not None
        return status


def writes(fake: StravaFake) -> list[tuple[str, str]]:
    """Requests that change something on Strava (the token endpoint is not one)."""
    return [
        (r["method"], r["path"])
        for r in fake.requests()
        if r["method"] != "GET" and not r["path"].startswith("/oauth/")
    ]


# -- connecting ---------------------------------------------------------------------------


def test_connecting_opens_the_consent_page_and_keeps_tokens_and_secret_in_one_keyring_entry(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    browser = Browser()
    message = connect(db, browser)

    assert message == "Connected to Strava as athlete 134815."
    consent = browser.query()
    assert consent["client_id"] == CLIENT_ID and consent["response_type"] == "code"
    assert consent["redirect_uri"].startswith("http://127.0.0.1:")
    assert consent["scope"] == "read,activity:read_all,activity:write,profile:read_all"
    assert consent["state"] and "code_challenge" not in consent  # state, and no PKCE
    # Tracekit itself made one request: trading the code for tokens.
    assert [(r["method"], r["path"]) for r in fake.requests()] == [
        ("GET", "/oauth/authorize"),
        ("POST", "/oauth/token"),
    ]
    ((key, blob),) = memory_keyring.entries.items()
    assert key == (SERVICE, "strava:oauth")
    stored = json.loads(blob)
    assert stored["client_secret"] == SECRET
    assert stored["access_token"].startswith("sa-") and stored["refresh_token"] == "sr-1"
    assert stored["expires_at"] is not None
    with db.session() as session:
        setting = session.get(Setting, "provider.strava")
        assert setting is not None
        assert setting.value["client_id"] == CLIENT_ID
        assert SECRET not in json.dumps(setting.value)  # the secret is never in the database
        assert "sa-" not in json.dumps(setting.value)


def test_declining_on_strava_keeps_nothing(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    fake.seed(authorize="deny")
    with pytest.raises(ConnectFailed, match=r"declined.*Nothing was saved"):
        connect(db)
    assert memory_keyring.entries == {}
    assert count(db, Setting) == 0
    assert [r["path"] for r in fake.requests()] == ["/oauth/authorize"]


def test_unticked_boxes_are_named_and_unticked_reading_refuses_to_connect(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    fake.seed(granted_scope="read,activity:read_all")
    message = connect(db)
    assert "Editing and uploading were not allowed" in message
    assert "gear names will be missing" in message

    fake.seed(granted_scope="read")
    with pytest.raises(ConnectFailed, match="show Tracekit your activities"):
        connect(db)


def test_a_wrong_client_secret_is_named_and_nothing_is_kept(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    with pytest.raises(ConnectFailed, match="refused the client id or secret"):
        connect_strava(
            db, Credentials(), client_id=CLIENT_ID, client_secret="wrong", opener=Browser()
        )
    assert memory_keyring.entries == {}


def test_cli_connect_says_strava_needs_a_subscription_and_reads_the_secret_from_stdin(
    fake: StravaFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser = Browser()
    monkeypatch.setattr("webbrowser.open", browser)
    monkeypatch.setattr("sys.stdin", stdin(SECRET))
    code = cli(
        "--db", str(db_path), "connect", "strava", "--client-id", CLIENT_ID,
        "--client-secret-stdin",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert "paid Strava subscription" in err
    assert "127.0.0.1" in err  # the callback domain the user's application needs
    assert "Connected to Strava as athlete 134815." in out
    assert SECRET not in out + err
    assert len(browser.opened) == 1
    assert list(memory_keyring.entries) == [(SERVICE, "strava:oauth")]


def test_cli_connect_without_a_client_id_explains_where_to_get_one(
    fake: StravaFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("--db", str(db_path), "connect", "strava") == 2
    err = capsys.readouterr().err
    assert "strava.com/settings/api" in err and "--client-id" in err
    assert "paid Strava subscription" in err
    assert fake.requests() == []


# -- reading ------------------------------------------------------------------------------


def test_an_activity_arrives_in_si_units_utc_with_its_zone_sport_gear_and_evidence(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock
) -> None:
    start = datetime(2026, 5, 2, 6, 15, tzinfo=UTC)
    fake.seed(
        activities=[
            strava_activity(
                12345678987,
                start,
                "America/New_York",
                type="Ride",
                sport_type="MountainBikeRide",
                gear_id="b2",
                distance=28099.4,
                moving_time=4207,
                elapsed_time=4410,
                average_heartrate=141.2,
                max_heartrate=172.0,
                device_name="Garmin Edge 1030",
                external_id="garmin_push_12345678987654321",
                upload_id=98765432123,
            )
        ]
    )
    report = sync_provider(db, provider, clock=clock)
    assert (report.new, report.stopped) == (1, None)
    with db.session() as session:
        (record,) = session.scalars(select(ProviderRecord)).all()
        assert record.provider is STRAVA and record.provider_id == "12345678987"
        assert record.start_utc == start
        assert record.timezone == "America/New_York"  # not "(GMT-04:00) America/New_York"
        assert record.start_local == datetime(2026, 5, 2, 2, 15)
        assert record.sport is Sport.MOUNTAIN_BIKE and record.raw_type == "MountainBikeRide"
        assert (record.distance_m, record.moving_s, record.elapsed_s) == (28099.4, 4207, 4410)
        assert (record.avg_hr, record.max_hr, record.ascent_m) == (141.2, 172.0, 516.0)
        assert (record.gear_id, record.gear_name) == ("b2", "Gravel bike")
        assert record.device == "Garmin Edge 1030"
        assert set(record.evidence or []) == {
            "strava:12345678987",
            "garmin:12345678987654321",
        }
        assert record.payload is not None and record.payload["upload_id"] == 98765432123
        assert "map" not in record.payload  # the route polyline is not kept
        activity = session.get(Activity, record.activity_id)
        assert activity is not None and activity.local_date.isoformat() == "2026-05-02"
        gear = {g.provider_gear_id: (g.name, g.kind) for g in session.scalars(select(ProviderGear))}
    assert gear == {
        "b1": ("Road bike", "Bike"),
        "b2": ("Gravel bike", "Bike"),
        "g7": ("Trail shoes", "Shoes"),
    }


def test_a_600_activity_history_arrives_in_pages_then_later_syncs_cost_one_request_or_none(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock
) -> None:
    fake.seed(activities=history(clock.now, 600))
    first = sync_provider(db, provider, clock=clock)
    assert (first.new, first.stopped) == (600, None)
    pages = [r["query"]["page"] for r in fake.requests() if r["path"].endswith("/activities")]
    assert pages == ["1", "2", "3", "4"]  # 200, 200, 200 and an empty page that ends it
    assert first.requests == 5  # and the athlete, for the gear
    assert len(set(strava_ids(db))) == 600 and count(db, Activity) == 600

    clock.advance(hours=1)
    second = sync_provider(db, provider, clock=clock)
    assert (second.new, second.updated, second.requests) == (0, 0, 1)
    (last,) = [r for r in fake.requests() if r["path"].endswith("/activities")][-1:]
    assert "after" in last["query"]  # only the last week (late uploads land there)

    clock.advance(hours=1)
    month = (clock.now - timedelta(days=90)).replace(day=1)
    again = sync_month(db, provider, month.year, month.month, clock=clock)
    assert (again.stopped, again.requests) == (StopReason.FRESH, 0)
    forced = sync_month(db, provider, month.year, month.month, force=True, clock=clock)
    assert (forced.stopped, forced.requests, forced.new) == (None, 1, 0)

    assert {r["method"] for r in fake.requests()} == {"GET"}  # syncing never writes


def test_retired_gear_that_activities_name_is_read_once_and_listed_as_retired(
    fake: StravaFake, provider: StravaProvider, clock: Clock
) -> None:
    fake.seed(
        retired_gear=[{"id": "b9", "name": "Old steel bike", "retired": True}],
        activities=[
            strava_activity(1, clock.now - timedelta(days=400), gear_id="b9"),
            strava_activity(2, clock.now - timedelta(days=401), gear_id="b9"),
        ],
    )
    assert {a.gear_id for a in provider.pull(None, None)} == {"b9"}
    first = {g.provider_gear_id: (g.name, g.retired) for g in provider.gear()}
    again = {g.provider_gear_id: (g.name, g.retired) for g in provider.gear()}
    assert (
        first
        == again
        == {
            "b1": ("Road bike", False),
            "b2": ("Gravel bike", False),
            "g7": ("Trail shoes", False),
            "b9": ("Old steel bike", True),
        }
    )
    gear_reads = [r["path"] for r in fake.requests() if "/gear/" in r["path"]]
    assert gear_reads == ["/api/v3/gear/b9"]  # Strava lists only active gear on the athlete


def test_only_me_activities_need_the_read_all_scope(fake: StravaFake, clock: Clock) -> None:
    fake.grant("narrow", "narrow-refresh", scope="read,activity:read")
    fake.seed(
        activities=[
            strava_activity(1, clock.now - timedelta(days=1)),
            strava_activity(2, clock.now - timedelta(days=2), visibility="only_me"),
        ]
    )
    tokens = TokenSet(access_token="narrow", expires_at=clock.now + timedelta(hours=1))
    with StravaProvider(
        client_id=CLIENT_ID, client_secret=SECRET, tokens=tokens, base_url=fake.url, clock=clock
    ) as narrow:
        assert [a.provider_id for a in narrow.pull(None, None)] == ["1"]


def test_fetch_of_a_missing_activity_says_not_found(provider: StravaProvider) -> None:
    with pytest.raises(ProviderError, match=r"^Strava: activity 999 not found$"):
        provider.fetch("999")


# -- tokens -------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_and_retried_and_the_rotated_set_is_kept(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database, clock: Clock
) -> None:
    connect(db)
    fake.seed(activities=history(clock.now, 3))
    fake.expire_tokens()  # Strava ended the access token early: the next call gets a 401
    providers = connected_providers(db, Credentials())
    strava = providers[STRAVA]
    try:
        report = sync_provider(db, strava, clock=clock)
        assert (report.new, report.stopped) == (3, None)
        fake.expire_tokens()
        assert sync_provider(db, strava, clock=clock, force=True).stopped is None
    finally:
        assert isinstance(strava, StravaProvider)
        strava.close()
    refreshes = [r["form"] for r in fake.requests() if r["path"] == "/oauth/token"][1:]
    # Each refresh used the refresh token the previous one returned (Strava rotates them).
    assert [f["refresh_token"] for f in refreshes] == ["sr-1", "sr-2"]
    assert all(f["grant_type"] == "refresh_token" for f in refreshes)
    retried = [r["path"] for r in fake.requests() if r["path"].startswith("/api/v3/athlete")]
    assert retried[:2] == ["/api/v3/athlete", "/api/v3/athlete"]  # refused, then retried
    stored = json.loads(memory_keyring.entries[(SERVICE, "strava:oauth")])
    assert stored["refresh_token"] == "sr-3" and stored["client_secret"] == SECRET
    # The kept set is what the next run starts from: it works without another refresh.
    before = len(fake.requests())
    again = connected_providers(db, Credentials())[STRAVA]
    try:
        assert len(again.gear()) == 3
    finally:
        assert isinstance(again, StravaProvider)
        again.close()
    assert [r["path"] for r in fake.requests()[before:]] == ["/api/v3/athlete"]


def test_a_token_about_to_expire_is_refreshed_before_the_call(
    fake: StravaFake, provider: StravaProvider, clock: Clock, saved: list[TokenSet]
) -> None:
    clock.advance(hours=5, minutes=59)
    provider.gear()
    assert [r["path"] for r in fake.requests()] == ["/oauth/token", "/api/v3/athlete"]
    assert len(saved) == 1 and saved[0].refresh_token != "refresh-1"
    assert saved[0].expires_at == clock.now + timedelta(hours=6)
    assert provider.requests_made == 2


def test_a_missing_permission_asks_to_connect_again_and_forgets_nothing(
    fake: StravaFake, clock: Clock
) -> None:
    fake.grant("read-only", "read-only-refresh", scope="read,activity:read_all")
    fake.seed(activities=[strava_activity(5, clock.now - timedelta(days=1))])
    revoked: list[str] = []
    tokens = TokenSet(access_token="read-only", expires_at=clock.now + timedelta(hours=1))
    with (
        StravaProvider(
            client_id=CLIENT_ID,
            client_secret=SECRET,
            tokens=tokens,
            base_url=fake.url,
            clock=clock,
            on_revoked=lambda: revoked.append("revoked"),
        ) as provider,
        pytest.raises(ReconnectNeeded, match="permission to change activities"),
    ):
        provider.rename("5", "Col de la Creu")
    assert revoked == []
    assert [r["method"] for r in fake.requests()] == ["PUT"]  # no refresh wasted on it


# -- rate limits and failures ---------------------------------------------------------------


def test_a_429_mid_history_stops_with_the_reset_time_then_resumes_without_duplicates_or_gaps(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock
) -> None:
    fake.seed(activities=history(clock.now, 600))
    fake.fail_next(
        429,
        headers={"X-RateLimit-Limit": "200,2000", "X-RateLimit-Usage": "201,900"},
        body={
            "message": "Rate Limit Exceeded",
            "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
        },
        path=LIST,
        after=1,
    )
    stopped = sync_provider(db, provider, clock=clock)
    quarter = clock.now.replace(minute=clock.now.minute // 15 * 15, second=0) + timedelta(
        minutes=15
    )
    assert stopped.stopped is StopReason.RATE_LIMITED
    assert stopped.rate_limited_until == quarter
    assert stopped.new == 200 and stopped.requests == 3  # athlete, a page, the refused page
    status = status_of(db)
    assert status.state is ProviderState.RATE_LIMITED and status.rate_limited_until == quarter
    assert status.error is not None and status.error.startswith("Strava: rate limited (429)")

    waiting = sync_provider(db, provider, clock=clock)
    assert (waiting.stopped, waiting.requests) == (StopReason.RATE_LIMITED, 0)

    clock.advance(minutes=16)
    resumed = sync_provider(db, provider, clock=clock)
    assert (resumed.stopped, resumed.new) == (None, 400)
    ids = strava_ids(db)
    assert len(ids) == len(set(ids)) == 600
    assert status_of(db).state is ProviderState.OK


def test_the_budget_stops_before_the_15_minute_read_limit_and_says_until_when(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock
) -> None:
    fake.seed(limits={"read": [4, 1000]}, activities=history(clock.now, 600))
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.RATE_LIMITED
    # The athlete and one page, then the budget (two requests kept back) said stop.
    assert report.requests == 2 and report.new == 200
    quarter = clock.now.replace(minute=clock.now.minute // 15 * 15, second=0) + timedelta(
        minutes=15
    )
    assert report.rate_limited_until == quarter
    assert report.message == (
        f"Strava: rate limit nearly used up; requests resume at {quarter:%H:%M} UTC"
    )
    state = provider.rate_limit_state()
    assert state is not None
    assert {w["name"]: w["usage"] for w in state["windows"]}["read 15min"] == 2


def test_a_nearly_used_daily_limit_stops_reads_until_midnight_but_lets_a_write_through(
    fake: StravaFake, provider: StravaProvider, clock: Clock
) -> None:
    fake.seed(
        usage={"read": [0, 997]},
        activities=[strava_activity(7, clock.now - timedelta(days=1))],
    )
    provider.gear()
    with pytest.raises(RateLimited) as raised:
        provider.fetch("7")
    midnight = (clock.now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    assert raised.value.until == midnight
    provider.rename("7", "Kept for what the user approved")
    assert [r["method"] for r in fake.requests()] == ["GET", "PUT"]


def test_server_errors_are_retried_a_few_times_then_the_status_names_strava(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock, sleeps: Sleeps
) -> None:
    fake.fail_next(503, times=3, body={"message": "Service Unavailable"})
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.ERROR and report.requests == 3
    assert sleeps.waits == [1.0, 2.0]
    status = status_of(db)
    assert status.state is ProviderState.ERROR
    assert status.error == "Strava: server error 503 after 3 attempts; try again later"

    fake.seed(activities=history(clock.now, 2))
    fake.fail_next(502)  # one hiccup is invisible
    assert sync_provider(db, provider, clock=clock).new == 2
    assert status_of(db).state is ProviderState.OK


def test_slow_answers_time_out_a_few_times_then_are_reported(
    fake: StravaFake, clock: Clock, sleeps: Sleeps
) -> None:
    fake.grant("access-1", "refresh-1")
    fake.fail_next(delay=5, times=3)
    tokens = TokenSet(access_token="access-1", expires_at=clock.now + timedelta(hours=1))
    with (
        StravaProvider(
            client_id=CLIENT_ID,
            client_secret=SECRET,
            tokens=tokens,
            base_url=fake.url,
            clock=clock,
            timeout=0.2,
            retry=RetryPolicy(sleep=sleeps),
        ) as slow,
        pytest.raises(ProviderError, match=r"^Strava: no answer within 0\.2 s after 3 attempts"),
    ):
        slow.gear()
    assert len(fake.requests()) == 3 and sleeps.waits == [1.0, 2.0]


def test_a_refused_write_is_reported_in_stravas_words(
    fake: StravaFake, provider: StravaProvider, clock: Clock
) -> None:
    fake.seed(activities=[strava_activity(5, clock.now - timedelta(days=1))])
    fake.fail_next(
        409,
        method="PUT",
        body={
            "message": "Conflict",
            "errors": [{"resource": "Activity", "field": "name", "code": "locked"}],
        },
    )
    with pytest.raises(ProviderError, match=r"^Strava: request refused \(409\): Conflict"):
        provider.rename("5", "Col de la Creu")
    with pytest.raises(ProviderError, match="not found"):
        provider.rename("6", "Col de la Creu")


def test_an_inactive_api_application_points_at_the_subscription(
    fake: StravaFake, provider: StravaProvider
) -> None:
    fake.fail_next(
        403,
        body={
            "message": "Forbidden",
            "errors": [{"resource": "Application", "field": "Status", "code": "Inactive"}],
        },
    )
    with pytest.raises(ProviderError, match="needs a Strava subscription") as raised:
        provider.gear()
    assert not isinstance(raised.value, ReconnectNeeded)


# -- deauthorisation (Strava's terms: all Strava data goes) --------------------------------


def test_deauthorisation_on_strava_deletes_every_local_strava_record_and_nothing_else(
    fake: StravaFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    clock: Clock,
    archive_dir: Path,
    tmp_path: Path,
) -> None:
    connect(db)
    fake.seed(activities=history(clock.now, 250))
    import_fit(db, archive_dir, tmp_path / "files", start=clock.now - timedelta(days=1, hours=5))
    first = connected_providers(db, Credentials())[STRAVA]
    try:
        assert sync_provider(db, first, clock=clock).new == 250
    finally:
        assert isinstance(first, StravaProvider)
        first.close()
    assert count(db, ProviderRecord) == 251

    fake.deauthorize()  # the athlete removed Tracekit under "My Apps" on strava.com
    fake.seed(activities=history(clock.now, 5, first_id=9000))  # the next run meets new ones
    clock.advance(hours=1)
    providers = connected_providers(db, Credentials())
    strava = providers[STRAVA]
    try:
        report = sync_provider(db, strava, clock=clock, force=True)
    finally:
        assert isinstance(strava, StravaProvider)
        strava.close()
    assert report.stopped is StopReason.RECONNECT_NEEDED
    assert report.message is not None and "deleted the Strava data" in report.message
    assert strava_ids(db) == []
    with db.session() as session:
        (left,) = session.scalars(select(ProviderRecord)).all()
        assert left.provider is ProviderName.FILE
        assert session.scalar(select(func.count()).select_from(Activity)) == 1
        assert (
            session.scalars(select(ProviderGear).where(ProviderGear.provider == STRAVA)).all() == []
        )
        assert session.get(SyncState, STRAVA) is None
        assert session.get(Setting, "provider.strava") is None
        messages = [n.message for n in session.scalars(select(Notification))]
    assert any("deleted the Strava data" in m for m in messages)
    assert memory_keyring.entries == {}
    assert connected_providers(db, Credentials()) == {}


def test_a_revoked_authorisation_met_by_an_approved_write_forgets_too(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database, clock: Clock
) -> None:
    connect(db)
    fake.seed(activities=history(clock.now, 3))
    strava = connected_providers(db, Credentials())[STRAVA]
    try:
        sync_provider(db, strava, clock=clock)
        fake.deauthorize()
        with pytest.raises(ReconnectNeeded, match="authorisation was revoked"):
            strava.fetch("7001")
    finally:
        assert isinstance(strava, StravaProvider)
        strava.close()
    assert strava_ids(db) == [] and memory_keyring.entries == {}


def deauthorize_calls(fake: StravaFake) -> list[str]:
    return [r["path"] for r in fake.requests() if r["path"].endswith("/oauth/deauthorize")]


def test_disconnecting_tells_strava_to_drop_tracekit_then_deletes_its_data(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database, clock: Clock
) -> None:
    connect(db)
    access = json.loads(memory_keyring.entries[(SERVICE, "strava:oauth")])["access_token"]
    fake.seed(activities=history(clock.now, 3))
    strava = connected_providers(db, Credentials())[STRAVA]
    try:
        assert sync_provider(db, strava, clock=clock).new == 3
    finally:
        strava.close()

    done = disconnect(db, Credentials(), STRAVA)

    assert len(deauthorize_calls(fake)) == 1
    assert done.message == (
        "Disconnected Strava; its key was removed from the keyring. Deleted 3 records and "
        "3 activities that only it had."
    )
    athlete = httpx.get(
        f"{fake.url}/api/v3/athlete", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert athlete.status_code == 401  # the old token no longer opens anything on Strava
    assert memory_keyring.entries == {} and strava_ids(db) == []


def test_when_strava_cannot_be_told_disconnecting_still_forgets_and_says_where_to_revoke(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    connect(db)
    fake.fail_next(400, path="/oauth/deauthorize", body={"message": "Bad Request"})

    done = disconnect(db, Credentials(), STRAVA)

    assert done.not_revoked is not None
    assert "https://www.strava.com/settings/apps" in done.message
    assert memory_keyring.entries == {}
    assert connected_providers(db, Credentials()) == {}


def test_a_revocation_noticed_by_a_sync_does_not_ask_strava_again(
    fake: StravaFake, memory_keyring: MemoryKeyring, db: Database, clock: Clock
) -> None:
    connect(db)
    fake.deauthorize()  # the athlete removed Tracekit on strava.com
    strava = connected_providers(db, Credentials())[STRAVA]
    try:
        assert sync_provider(db, strava, clock=clock).stopped is StopReason.RECONNECT_NEEDED
    finally:
        strava.close()
    assert deauthorize_calls(fake) == [] and memory_keyring.entries == {}


# -- writing through apply ------------------------------------------------------------------


def test_rename_and_gear_through_apply_are_written_read_back_and_journaled(
    fake: StravaFake, provider: StravaProvider, db: Database, clock: Clock, archive_dir: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    start = (clock.now - timedelta(days=3)).replace(hour=7, minute=30, second=0)
    fake.seed(activities=[strava_activity(5001, start, gear_id="b2")])  # "Morning Ride"
    file_record = import_fit(db, archive_dir, tmp_path / "in", start=start)
    with db.session() as session:
        trek = Gear(name="Road bike")
        session.add(trek)
        session.flush()
        session.add(
            ProviderGear(
                provider=ProviderName.RIDEWITHGPS, provider_gear_id="r1", name="Road bike",
                gear_id=trek.id,
            )
        )  # fmt: skip
        original = session.get(ProviderRecord, file_record)
        assert original is not None
        session.add(
            ProviderRecord(
                provider=ProviderName.RIDEWITHGPS, provider_id="rw1", start_utc=start,
                sport=Sport.RIDE, name="Col de Rates loop", gear_id="r1", gear_name="Road bike",
                fetched_at=clock.now, changed_at=clock.now, activity_id=original.activity_id,
            )
        )  # fmt: skip
    sync_provider(db, provider, clock=clock, on_records_changed=lambda ids: _rematch(db, ids))
    providers = {STRAVA: provider}
    with db.session() as session:
        ids = list(session.scalars(select(Activity.id)))
        changes = propose(session, ids, Settings(), {STRAVA: provider.capabilities})
    kinds = {c.kind: c for c in changes}
    assert set(kinds) == {ChangeKind.RENAME, ChangeKind.SET_GEAR}
    assert writes(fake) == []  # reviewing sent nothing

    outcomes = apply(db, [c.id for c in changes], providers, Settings())

    assert [o.status for o in outcomes] == [OutcomeStatus.DONE, OutcomeStatus.DONE]
    assert sorted(o.message for o in outcomes) == ["gear set on Strava", "renamed on Strava"]
    puts = [r["json"] for r in fake.requests() if r["method"] == "PUT"]
    assert sorted(puts, key=str) == [{"gear_id": "b1"}, {"name": "Col de Rates loop"}]
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "5001")
        ).one()
        assert (record.name, record.gear_id, record.gear_name) == (
            "Col de Rates loop",
            "b1",
            "Road bike",
        )
        journal = [e.state.value for e in session.scalars(select(JournalEntry))]
        assert journal == ["done", "done"]
        left = propose(session, ids, Settings(), {STRAVA: provider.capabilities})
    assert left == []


def _rematch(db: Database, ids: list[int]) -> None:
    from tracekit.linking import rematch_records

    rematch_records(db, ids)


def test_an_upload_through_apply_polls_until_it_is_an_activity_and_links_it(
    fake: StravaFake,
    provider: StravaProvider,
    db: Database,
    clock: Clock,
    archive_dir: Path,
    tmp_path: Path,
    polls: Sleeps,
) -> None:
    fake.seed(polls_until_ready=3)
    start = (clock.now - timedelta(days=2)).replace(hour=8, minute=0, second=0)
    file_record = import_fit(db, archive_dir, tmp_path / "in", start=start)
    with db.session() as session:
        original = session.get(ProviderRecord, file_record)
        assert original is not None and original.activity_id is not None
        activity_id = original.activity_id
        (change,) = propose(session, [activity_id], Settings(), {STRAVA: provider.capabilities})
    assert change.kind is ChangeKind.ADD_TO_PROVIDER

    (outcome,) = apply(db, [change.id], {STRAVA: provider}, Settings())

    assert outcome.status is OutcomeStatus.DONE
    new_id = outcome.message.removeprefix("uploaded to Strava as ")
    assert new_id.isdigit()
    assert polls.waits == [1.0, 1.0, 1.0]  # once a second, until it was ready
    upload = next(r for r in fake.requests() if r["method"] == "POST")
    assert upload["path"] == "/api/v3/uploads" and upload["files"] == ["file"]
    assert upload["query"]["data_type"] == "fit"
    assert upload["query"]["external_id"] == f"tracekit-{activity_id}"
    paths = [r["path"] for r in fake.requests()]
    assert paths.count("/api/v3/uploads/" + str(16_486_001)) == 3
    assert paths[-1] == f"/api/v3/activities/{new_id}"  # read back
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider == STRAVA)
        ).one()
        assert (record.provider_id, record.activity_id) == (new_id, activity_id)
        assert record.start_utc == start


@pytest.mark.parametrize("mode", ["processing", "immediate", "html"])
def test_uploading_what_strava_already_has_links_that_activity_instead(
    fake: StravaFake,
    provider: StravaProvider,
    db: Database,
    clock: Clock,
    archive_dir: Path,
    tmp_path: Path,
    mode: str,
) -> None:
    start = (clock.now - timedelta(days=2)).replace(hour=8, minute=0, second=0)
    file_record = import_fit(db, archive_dir, tmp_path / "in", start=start)
    with db.session() as session:
        original = session.get(ProviderRecord, file_record)
        assert original is not None and original.file_path is not None
        activity_id = original.activity_id
        data = Path(original.file_path).read_bytes()
    fake.seed(
        activities=[strava_activity(88, start, name="Garmin's copy")],
        files={"88": base64.b64encode(data).decode()},
        duplicate_mode="processing" if mode == "processing" else "immediate",
        duplicate_html=mode == "html",
    )
    with db.session() as session:
        assert activity_id is not None
        (change,) = propose(session, [activity_id], Settings(), {STRAVA: provider.capabilities})

    (outcome,) = apply(db, [change.id], {STRAVA: provider}, Settings())

    assert (outcome.status, outcome.message) == (
        OutcomeStatus.DONE,
        "Strava already had this activity (88); linked it",
    )
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider == STRAVA)
        ).one()
        assert (record.provider_id, record.activity_id, record.name) == (
            "88",
            activity_id,
            "Garmin's copy",
        )
    assert [p for p in (r["path"] for r in fake.requests()) if "/activities/" in p] == [
        "/api/v3/activities/88"
    ]


def test_an_upload_error_is_reported_in_plain_words(
    provider: StravaProvider, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an activity")
    with pytest.raises(ProviderError, match="not a FIT, TCX or GPX file"):
        provider.upload(path, None, "tracekit-1")


def test_nothing_reaches_strava_as_a_write_except_through_apply(
    fake: StravaFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    db_path: Path,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(db)
    fake.seed(activities=history(clock.now, 40))
    assert cli("--db", str(db_path), "sync") == 0
    assert cli("--db", str(db_path), "review", "--all") == 0
    assert cli("--db", str(db_path), "sync", "strava") == 0
    assert cli("--db", str(db_path), "status") in (0, 1)
    capsys.readouterr()
    assert writes(fake) == []
    assert {r["method"] for r in fake.requests() if r["path"].startswith("/api/")} == {"GET"}


def test_secrets_never_show_in_reprs_logs_or_errors(
    fake: StravaFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    connect(db)
    fake.expire_tokens()
    strava = connected_providers(db, Credentials())[STRAVA]
    try:
        strava.gear()
        fake.deauthorize()
        with pytest.raises(ReconnectNeeded) as raised:
            strava.gear()
        shown = " ".join([repr(strava), str(raised.value), caplog.text])
    finally:
        assert isinstance(strava, StravaProvider)
        strava.close()
    assert SECRET not in shown
    assert "sa-" not in shown and "sr-" not in shown


def test_capabilities_say_what_strava_can_do() -> None:
    assert StravaProvider.capabilities == {
        Capability.READ,
        Capability.RENAME,
        Capability.SET_DESCRIPTION,
        Capability.SET_GEAR,
        Capability.UPLOAD,
    }
