"""RideWithGPS end to end against a fake of its API on 127.0.0.1 (never the internet)."""

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from tests.fakes.browser import Browser
from tests.fakes.cli import cli
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tests.fakes.rwgps_server import USER_ID, RideWithGpsFake, rwgps_trip, tcx_bytes
from tracekit.apply import OutcomeStatus, apply
from tracekit.changes import ChangeKind
from tracekit.credentials import SERVICE, Credentials
from tracekit.proposals import propose
from tracekit.providers.base import Capability, ProviderError, RateLimited, ReconnectNeeded
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import (
    ConnectFailed,
    connect_ridewithgps,
    connect_ridewithgps_oauth,
    connected_providers,
)
from tracekit.providers.ridewithgps import RideWithGpsProvider
from tracekit.ratelimit import RetryPolicy
from tracekit.settings import Settings
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    JournalEntry,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    Setting,
)
from tracekit.sync import StopReason, sync_month, sync_provider

RWGPS = ProviderName.RIDEWITHGPS
API_KEY = "rwgps-api-key-0001"
EMAIL, PASSWORD = "ana@example.com", "correct horse battery staple"
AUTH_TOKEN = "rwgps-auth-token-0001"
CLIENT_ID, CLIENT_SECRET = "rw-client", "rw-client-secret-0001"
ZONES = ("America/Los_Angeles", "Europe/Madrid", "Asia/Tokyo", "America/New_York")
GEAR = [
    {"id": 55, "nickname": "Road bike", "make": "Trek", "model": "Domane"},
    {"id": 56, "nickname": None, "make": "Salsa", "model": "Warbird"},
]
LIST = r"/api/v1/trips\.json$"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def history(now: datetime, count: int, first_id: int = 3000) -> list[dict[str, Any]]:
    """One ride a day going back `count` days, uploaded an hour after each ride."""
    return [
        rwgps_trip(first_id + n, now - timedelta(days=n, hours=5), ZONES[n % len(ZONES)])
        for n in range(1, count + 1)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def fake(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[RideWithGpsFake]:
    with RideWithGpsFake(clock=clock) as server:
        monkeypatch.setenv("TRACEKIT_RIDEWITHGPS_URL", server.url)
        server.seed(
            api_keys=[API_KEY],
            users=[{"id": USER_ID, "email": EMAIL, "password": PASSWORD, "name": "Ana"}],
            auth_tokens={AUTH_TOKEN: USER_ID},
            clients={CLIENT_ID: CLIENT_SECRET},
            gear=GEAR,
        )
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def provider(fake: RideWithGpsFake, clock: Clock, sleeps: Sleeps) -> Iterator[RideWithGpsProvider]:
    with RideWithGpsProvider(
        api_key=API_KEY,
        auth_token=AUTH_TOKEN,
        user_id=str(USER_ID),
        base_url=fake.url,
        clock=clock,
        retry=RetryPolicy(sleep=sleeps),
    ) as client:
        yield client


def trip_ids(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ProviderRecord.provider_id).where(ProviderRecord.provider == RWGPS)
            )
        )


def status_of(db: Database) -> ProviderStatus:
    with db.session() as session:
        status = session.get(ProviderStatus, RWGPS)
        assert status is not None
        return status


def writes(fake: RideWithGpsFake) -> list[tuple[str, str]]:
    """Requests that change something on RideWithGPS (connecting is not one)."""
    return [
        (r["method"], r["path"])
        for r in fake.requests()
        if r["method"] != "GET"
        and r["path"] not in ("/api/v1/auth_tokens.json", "/oauth/token.json")
    ]


# -- connecting ---------------------------------------------------------------------------


def test_connecting_trades_the_password_for_a_token_once_and_keeps_only_key_and_token(
    fake: RideWithGpsFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    connected = connect_ridewithgps(
        db, Credentials(), api_key=API_KEY, email=EMAIL, password=PASSWORD
    )
    assert connected.message == f"Connected to RideWithGPS as user {USER_ID}."
    (request,) = fake.requests()
    assert (request["method"], request["path"]) == ("POST", "/api/v1/auth_tokens.json")
    ((key, blob),) = memory_keyring.entries.items()
    assert key == (SERVICE, "ridewithgps:api_key")
    stored = json.loads(blob)
    assert set(stored) == {"api_key", "auth_token"} and stored["api_key"] == API_KEY
    assert PASSWORD not in blob
    with db.session() as session:
        setting = session.get(Setting, "provider.ridewithgps")
        assert setting is not None and setting.value == {"auth": "api_key", "user_id": "1"}
    provider = connected_providers(db, Credentials())[RWGPS]
    try:
        assert [g.name for g in provider.gear()] == ["Road bike", "Salsa Warbird"]
    finally:
        assert isinstance(provider, RideWithGpsProvider)
        provider.close()
    assert fake.requests()[-1]["auth"] == "headers"


def test_a_wrong_password_stores_nothing_and_never_shows_the_password(
    fake: RideWithGpsFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectFailed) as raised:
        connect_ridewithgps(db, Credentials(), api_key=API_KEY, email=EMAIL, password="wrong pw")
    assert "refused the API key, email or password" in str(raised.value)
    assert "Nothing was saved" in str(raised.value)
    assert "wrong pw" not in str(raised.value) + caplog.text
    assert memory_keyring.entries == {}
    with db.session() as session:
        assert session.scalars(select(Setting)).all() == []


def test_cli_connect_reads_key_and_password_from_stdin_in_that_order(
    fake: RideWithGpsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{API_KEY}\n{PASSWORD}\n"))
    code = cli(
        "--db", str(db_path), "connect", "ridewithgps", "--email", EMAIL,
        "--api-key-stdin", "--password-stdin",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Connected to RideWithGPS as user 1." in out
    assert "tracekit sync ridewithgps" in out
    assert PASSWORD not in out + err
    assert list(memory_keyring.entries) == [(SERVICE, "ridewithgps:api_key")]


def test_connecting_with_oauth_goes_through_the_browser_and_syncs_with_the_bearer_token(
    fake: RideWithGpsFake, memory_keyring: MemoryKeyring, db: Database, clock: Clock
) -> None:
    browser = Browser()
    connected = connect_ridewithgps_oauth(
        db, Credentials(), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, opener=browser
    )
    assert connected.message == "Connected to RideWithGPS as user 1."
    consent = {k: v[0] for k, v in parse_qs(urlsplit(browser.opened[0]).query).items()}
    assert consent["client_id"] == CLIENT_ID and consent["state"]
    assert consent["redirect_uri"].startswith("http://127.0.0.1:")
    token_request = next(r for r in fake.requests() if r["path"] == "/oauth/token.json")
    assert token_request["json"]["grant_type"] == "authorization_code"
    assert list(memory_keyring.entries) == [(SERVICE, "ridewithgps:oauth")]
    fake.seed(trips=history(clock.now, 3))
    provider = connected_providers(db, Credentials())[RWGPS]
    try:
        assert sync_provider(db, provider, clock=clock).new == 3
    finally:
        assert isinstance(provider, RideWithGpsProvider)
        provider.close()
    synced = [r["auth"] for r in fake.requests() if r["path"].startswith(("/api/v1/t", "/users"))]
    assert synced and set(synced) == {"bearer"}


def test_declining_in_the_browser_stores_nothing(
    fake: RideWithGpsFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    fake.seed(authorize="deny")
    with pytest.raises(ConnectFailed, match="declined"):
        connect_ridewithgps_oauth(
            db, Credentials(), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, opener=Browser()
        )
    assert memory_keyring.entries == {}


# -- reading ------------------------------------------------------------------------------


def test_a_trip_arrives_in_utc_with_its_zone_local_time_sport_and_device(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, db: Database, clock: Clock
) -> None:
    start = datetime(2026, 5, 2, 6, 15, tzinfo=UTC)
    fake.seed(
        trips=[
            rwgps_trip(
                4604348,
                start,
                "Asia/Tokyo",
                activity_type="cycling:gravel",
                distance=28073.7,
                duration=3720,
                moving_time=3687,
            ),
            rwgps_trip(
                4604349,
                start + timedelta(days=1),
                "Europe/Madrid",
                activity_type="running:trail",
            ),
        ]
    )
    report = sync_provider(db, provider, clock=clock)
    assert (report.new, report.stopped) == (2, None)
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "4604348")
        ).one()
        assert record.start_utc == start
        assert (record.timezone, record.start_local) == ("Asia/Tokyo", datetime(2026, 5, 2, 15, 15))
        assert record.sport is Sport.GRAVEL_RIDE and record.raw_type == "cycling:gravel"
        assert (record.distance_m, record.elapsed_s, record.moving_s) == (28073.7, 3720, 3687)
        assert (record.ascent_m, record.avg_hr, record.max_hr) == (363, 163, 188)
        assert record.device == "Garmin Edge 540"
        assert record.payload is not None and "track_points" not in record.payload
        trail = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "4604349")
        ).one()
        assert trail.sport is Sport.TRAIL_RUN
        gear = {g.provider_gear_id: g.name for g in session.scalars(select(ProviderGear))}
    assert gear == {"55": "Road bike", "56": "Salsa Warbird"}


def test_a_600_trip_history_arrives_in_pages_then_later_syncs_cost_one_request_or_none(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, db: Database, clock: Clock
) -> None:
    fake.seed(trips=history(clock.now, 600))
    first = sync_provider(db, provider, clock=clock)
    assert (first.new, first.stopped) == (600, None)
    pages = [r["query"] for r in fake.requests() if r["path"] == "/api/v1/trips.json"]
    assert [(p["page"], p["page_size"]) for p in pages] == [
        ("1", "200"),
        ("2", "200"),
        ("3", "200"),
    ]
    assert first.requests == 4  # and the gear list
    assert sorted(trip_ids(db)) == sorted(str(3000 + n) for n in range(1, 601))

    clock.advance(hours=1)
    late = rwgps_trip(9001, clock.now - timedelta(days=3), "Europe/Madrid")
    late["updated_at"] = clock.now.isoformat()  # uploaded late, today
    fake.seed(trips=[late])
    second = sync_provider(db, provider, clock=clock)
    assert (second.new, second.updated, second.requests) == (1, 0, 1)

    clock.advance(hours=1)
    month = (clock.now - timedelta(days=90)).replace(day=1)
    again = sync_month(db, provider, month.year, month.month, clock=clock)
    assert (again.stopped, again.requests) == (StopReason.FRESH, 0)
    assert {r["method"] for r in fake.requests()} == {"GET"}  # syncing never writes


def test_fetch_of_a_missing_or_someone_elses_trip_says_so(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, clock: Clock
) -> None:
    fake.seed(trips=[rwgps_trip(77, clock.now - timedelta(days=1), user_id=2)])
    with pytest.raises(ProviderError, match=r"^RideWithGPS: trip 999 not found$"):
        provider.fetch("999")
    with pytest.raises(ProviderError, match=r"trip 77 belongs to someone else \(403\)"):
        provider.fetch("77")


# -- writing and downloading through apply --------------------------------------------------


def test_rename_description_gear_and_download_through_apply(
    fake: RideWithGpsFake,
    provider: RideWithGpsProvider,
    db: Database,
    clock: Clock,
    archive_dir: Path,
) -> None:
    start = (clock.now - timedelta(days=2)).replace(hour=15, minute=0, second=0)
    fake.seed(
        trips=[rwgps_trip(501, start, "America/Los_Angeles")],  # "Morning Ride", no gear
        files={"501": {"tcx": base64.b64encode(tcx_bytes(start)).decode()}},
    )
    sync_provider(db, provider, clock=clock)
    with db.session() as session:
        trip = session.scalars(select(ProviderRecord).where(ProviderRecord.provider == RWGPS)).one()
        activity_id = trip.activity_id
        session.add(  # what Garmin holds for the same ride, typed by the user on the watch app
            ProviderRecord(
                provider=ProviderName.GARMIN, provider_id="g1", start_utc=start,
                sport=Sport.RIDE, name="Col de Rates loop", description="Windy on top",
                gear_id="garmin-bike", gear_name="Road bike", fetched_at=clock.now,
                changed_at=clock.now, activity_id=activity_id,
            )
        )  # fmt: skip
        session.add(
            ProviderGear(
                provider=ProviderName.GARMIN, provider_gear_id="garmin-bike", name="Road bike"
            )
        )
    assert activity_id is not None
    capabilities = {RWGPS: provider.capabilities}
    with db.session() as session:
        changes = propose(session, [activity_id], Settings(), capabilities)
    assert sorted(c.kind for c in changes) == sorted(
        [
            ChangeKind.RENAME,
            ChangeKind.SET_DESCRIPTION,
            ChangeKind.SET_GEAR,
            ChangeKind.DOWNLOAD_ORIGINAL,
        ]
    )
    assert writes(fake) == []  # reviewing sent nothing

    outcomes = apply(db, [c.id for c in changes], {RWGPS: provider}, Settings())

    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 4, [o.message for o in outcomes]
    patches = [r["json"] for r in fake.requests() if r["method"] == "PATCH"]
    assert sorted(patches, key=str) == sorted(
        [
            {"trip": {"name": "Col de Rates loop"}},
            {"trip": {"description": "Windy on top"}},
            {"trip": {"gear_id": 55}},
        ],
        key=str,
    )
    downloads = [r for r in fake.requests() if r["path"] == "/trips/501.tcx"]
    assert [d["query"] for d in downloads] == [{"sub_format": "history"}]
    with db.session() as session:
        trip = session.scalars(select(ProviderRecord).where(ProviderRecord.provider == RWGPS)).one()
        assert (trip.name, trip.description, trip.gear_id, trip.gear_name) == (
            "Col de Rates loop",
            "Windy on top",
            "55",
            "Road bike",
        )
        activity = session.get(Activity, activity_id)
        assert activity is not None
        files = [r for r in activity.records if r.provider is ProviderName.FILE]
        assert len(files) == 1 and files[0].file_path is not None
        assert Path(files[0].file_path).name.startswith("ridewithgps-501")
        assert archive_dir in Path(files[0].file_path).parents
        assert files[0].start_utc == start
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 4
        left = propose(session, [activity_id], Settings(), capabilities)
    assert left == []


def test_a_download_that_is_not_a_file_keeps_nothing(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, clock: Clock, tmp_path: Path
) -> None:
    fake.seed(
        trips=[rwgps_trip(8, clock.now - timedelta(days=1))],
        files={"8": {"tcx": base64.b64encode(b"<html>Sign in</html>").decode()}},
    )
    with pytest.raises(ProviderError, match="not a TCX file; nothing was kept"):
        provider.download_original("8", tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    with pytest.raises(ProviderError, match="the file of trip 9 not found"):
        provider.download_original("9", tmp_path / "out")


def test_unknown_gear_is_refused_with_the_services_reason(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, clock: Clock
) -> None:
    fake.seed(trips=[rwgps_trip(8, clock.now - timedelta(days=1))])
    with pytest.raises(ProviderError, match=r"request refused \(422\): Gear not found"):
        provider.set_gear("8", "999")
    with pytest.raises(ProviderError, match="no known way to clear"):
        provider.set_gear("8", None)


# -- failures -------------------------------------------------------------------------------


def test_a_refused_token_means_connect_again_and_keeps_the_data(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, db: Database, clock: Clock
) -> None:
    fake.seed(trips=history(clock.now, 3))
    sync_provider(db, provider, clock=clock)
    fake.revoke()
    clock.advance(hours=1)
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.RECONNECT_NEEDED and report.requests == 1
    status = status_of(db)
    assert status.state is ProviderState.RECONNECT_NEEDED
    assert (
        status.error == "RideWithGPS: the authorisation was refused or revoked (401); connect again"
    )
    assert len(trip_ids(db)) == 3  # only Strava's terms ask for the data to go


def test_a_429_mid_history_stops_then_resumes_without_duplicates_or_gaps(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, db: Database, clock: Clock
) -> None:
    fake.seed(trips=history(clock.now, 600))
    fake.fail_next(
        429, headers={"Retry-After": "600"}, body={"error": "Slow down"}, path=LIST, after=1
    )
    stopped = sync_provider(db, provider, clock=clock)
    assert stopped.stopped is StopReason.RATE_LIMITED and stopped.new == 200
    assert stopped.rate_limited_until == clock.now + timedelta(minutes=10)
    status = status_of(db)
    assert status.state is ProviderState.RATE_LIMITED
    assert status.rate_limited_until == clock.now + timedelta(minutes=10)

    assert sync_provider(db, provider, clock=clock).requests == 0  # still waiting
    with pytest.raises(RateLimited):
        provider.fetch("3001")

    clock.advance(minutes=11)
    resumed = sync_provider(db, provider, clock=clock)
    assert (resumed.stopped, resumed.new) == (None, 400)
    ids = trip_ids(db)
    assert len(ids) == len(set(ids)) == 600


def test_server_errors_are_retried_a_few_times_then_the_status_names_ridewithgps(
    fake: RideWithGpsFake, provider: RideWithGpsProvider, db: Database, clock: Clock, sleeps: Sleeps
) -> None:
    fake.fail_next(500, times=3, body={"error": "boom"})
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.ERROR and report.requests == 3
    assert sleeps.waits == [1.0, 2.0]
    assert status_of(db).error == "RideWithGPS: server error 500 after 3 attempts; try again later"


def test_slow_answers_time_out_a_few_times_then_are_reported(
    fake: RideWithGpsFake, clock: Clock, sleeps: Sleeps
) -> None:
    fake.fail_next(delay=5, times=3)
    with (
        RideWithGpsProvider(
            api_key=API_KEY,
            auth_token=AUTH_TOKEN,
            user_id="1",
            base_url=fake.url,
            clock=clock,
            timeout=0.2,
            retry=RetryPolicy(sleep=sleeps),
        ) as slow,
        pytest.raises(ProviderError, match=r"^RideWithGPS: no answer within 0\.2 s"),
    ):
        slow.gear()
    assert len(fake.requests()) == 3 and len(sleeps.waits) == 2


def test_nothing_reaches_ridewithgps_as_a_write_except_through_apply(
    fake: RideWithGpsFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    db_path: Path,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect_ridewithgps(db, Credentials(), api_key=API_KEY, email=EMAIL, password=PASSWORD)
    fake.seed(trips=history(clock.now, 30))
    assert cli("--db", str(db_path), "sync", "ridewithgps") == 0
    assert cli("--db", str(db_path), "review", "--all") == 0
    assert cli("--db", str(db_path), "sync") == 0
    capsys.readouterr()
    assert writes(fake) == []


def test_reprs_and_errors_never_show_the_token(
    fake: RideWithGpsFake, provider: RideWithGpsProvider
) -> None:
    fake.revoke()
    with pytest.raises(ReconnectNeeded) as raised:
        provider.gear()
    assert AUTH_TOKEN not in repr(provider) + str(raised.value)
    assert API_KEY not in repr(provider) + str(raised.value)


def test_capabilities_are_what_the_api_offers() -> None:
    assert RideWithGpsProvider.capabilities == {
        Capability.READ,
        Capability.RENAME,
        Capability.SET_DESCRIPTION,
        Capability.SET_GEAR,
        Capability.DOWNLOAD_ORIGINAL,
    }
