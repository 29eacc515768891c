"""intervals.icu end to end against a fake of its API on 127.0.0.1 (never the internet)."""

import base64
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.fakes.cli import cli, stdin
from tests.fakes.intervals_server import IntervalsFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tracekit.credentials import SERVICE, Credentials
from tracekit.files.fit_writer import write_activity
from tracekit.oauth import TokenSet
from tracekit.providers.base import ProviderError, RateLimited, ReconnectNeeded
from tracekit.providers.intervalsicu import IntervalsIcuProvider
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import connect_intervalsicu, connected_providers
from tracekit.ratelimit import RetryPolicy
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import Activity, ProviderRecord, Setting
from tracekit.sync import sync_month, sync_provider

KEY = "intervals-test-key-0001"


def icu_activity(
    activity_id: str,
    start_utc: datetime,
    zone: str = "Europe/Madrid",
    **fields: Any,
) -> dict[str, Any]:
    """An activity as intervals.icu's API returns it."""
    local = start_utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    item: dict[str, Any] = {
        "id": activity_id,
        "name": f"Ride {activity_id}",
        "type": "Ride",
        "start_date_local": local.isoformat(timespec="seconds"),
        "start_date": start_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": zone,
        "distance": 30120.5,
        "moving_time": 3900,
        "elapsed_time": 4200,
        "source": "GARMIN_CONNECT",
    }
    item.update(fields)
    return item


class Sleeps:
    """Stands in for time.sleep in retry back-off: records the waits, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[IntervalsFake]:
    with IntervalsFake() as server:
        monkeypatch.setenv("TRACEKIT_INTERVALSICU_URL", server.url)
        server.seed(api_keys=[KEY], athlete_id="i4242")
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def provider(fake: IntervalsFake, sleeps: Sleeps) -> Iterator[IntervalsIcuProvider]:
    with IntervalsIcuProvider(
        api_key=KEY, base_url=fake.url, retry=RetryPolicy(sleep=sleeps)
    ) as client:
        yield client


# -- connecting through the CLI -----------------------------------------------------------


def test_connect_with_a_valid_key_makes_one_request_and_keeps_the_key_in_the_keyring(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", stdin(KEY))
    code = cli("--db", str(db_path), "connect", "intervalsicu", "--api-key-stdin")
    out = capsys.readouterr().out
    assert code == 0
    assert "Connected to intervals.icu" in out and "tracekit sync intervalsicu" in out
    assert [(r["method"], r["auth"]) for r in fake.requests()] == [("GET", "basic")]
    assert memory_keyring.entries == {(SERVICE, "intervalsicu:api_key"): KEY}


def test_connect_with_a_wrong_key_says_so_and_stores_nothing(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", stdin("not-the-key"))
    code = cli("--db", str(db_path), "connect", "intervalsicu", "--api-key-stdin")
    err = capsys.readouterr().err
    assert code == 1
    assert "refused this API key" in err and "Nothing was saved" in err
    assert "intervals.icu/settings" in err
    assert len(fake.requests()) == 1
    assert memory_keyring.entries == {}
    database = Database(f"sqlite:///{db_path}")
    try:
        with database.session() as session:
            assert session.scalars(select(Setting)).all() == []
    finally:
        database.dispose()


def test_connect_with_someone_elses_athlete_id_points_at_the_athlete_id(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", stdin(KEY))
    code = cli(
        "--db", str(db_path), "connect", "intervalsicu", "--athlete-id", "i1", "--api-key-stdin"
    )
    assert code == 1
    assert "athlete id" in capsys.readouterr().err
    assert memory_keyring.entries == {}


def test_connect_without_a_terminal_or_stdin_flag_asks_for_the_flag(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", stdin(KEY))  # not a terminal
    assert cli("--db", str(db_path), "connect", "intervalsicu") == 2
    assert "--api-key-stdin" in capsys.readouterr().err
    assert fake.requests() == []


def test_an_oauth_connection_keeps_one_token_set_and_syncs_with_the_bearer_token(
    fake: IntervalsFake, memory_keyring: MemoryKeyring, db: Database
) -> None:
    fake.seed(
        tokens=["oauth-access-1"],
        activities=[icu_activity("i1", datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
    )
    tokens = TokenSet(access_token="oauth-access-1", scope="ACTIVITY:WRITE")
    connect_intervalsicu(db, Credentials(), tokens=tokens)
    assert list(memory_keyring.entries) == [(SERVICE, "intervalsicu:oauth")]
    providers = connected_providers(db, Credentials())
    provider = providers[ProviderName.INTERVALSICU]
    try:
        assert sync_provider(db, provider).new == 1
    finally:
        assert isinstance(provider, IntervalsIcuProvider)
        provider.close()
    assert {r["auth"] for r in fake.requests()} == {"bearer"}


# -- reading ------------------------------------------------------------------------------


def test_an_activity_arrives_in_si_units_utc_with_its_zone_sport_gear_and_evidence(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database
) -> None:
    start = datetime(2026, 5, 2, 6, 15, tzinfo=UTC)
    fake.seed(
        gear=[{"id": "b77", "name": "Gravel bike", "type": "Bike", "retired": None}],
        activities=[
            icu_activity(
                "i501",
                start,
                "America/New_York",
                type="GravelRide",
                gear={"id": "b77"},
                device_name="Garmin Edge 540",
                average_heartrate=141,
                max_heartrate=172,
                total_elevation_gain=410.0,
                calories=812,
                strava_id="12345678",
                external_id="garmin_push_987654321",
            ),
            {  # what intervals.icu returns for an activity that came from Strava
                "id": "i502",
                "start_date_local": "2026-05-03T08:00:00",
                "source": "STRAVA",
                "type": "Ride",
            },
        ],
    )
    report = sync_provider(db, provider)
    assert (report.new, report.stopped) == (1, None)
    with db.session() as session:
        (record,) = session.scalars(select(ProviderRecord)).all()
        assert record.provider is ProviderName.INTERVALSICU and record.provider_id == "i501"
        assert record.start_utc == start
        assert record.timezone == "America/New_York"
        assert record.start_local == datetime(2026, 5, 2, 2, 15)
        assert record.sport is Sport.GRAVEL_RIDE and record.raw_type == "GravelRide"
        assert (record.distance_m, record.moving_s, record.elapsed_s) == (30120.5, 3900, 4200)
        assert (record.avg_hr, record.max_hr, record.ascent_m) == (141, 172, 410.0)
        assert record.gear_id == "b77" and record.gear_name == "Gravel bike"
        assert record.device == "Garmin Edge 540"
        assert set(record.evidence or []) == {"strava:12345678", "garmin:987654321"}
        activity = session.get(Activity, record.activity_id)
        assert activity is not None
        assert activity.local_date.isoformat() == "2026-05-02"  # New York's date, not UTC's
        assert activity.sport is Sport.GRAVEL_RIDE


def test_a_month_pull_keeps_sessions_at_the_month_edges_in_every_zone(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database
) -> None:
    fake.seed(
        activities=[
            # 1 May 01:00 in Tokyo is still 30 April in UTC.
            icu_activity("tokyo", datetime(2026, 4, 30, 16, 0, tzinfo=UTC), "Asia/Tokyo"),
            # 31 May 23:00 in Honolulu is already 1 June in UTC.
            icu_activity("honolulu", datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "Pacific/Honolulu"),
            icu_activity("april", datetime(2026, 4, 20, 9, 0, tzinfo=UTC)),
            icu_activity("june", datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
        ]
    )
    report = sync_month(db, provider, 2026, 5)
    assert report.stopped is None
    with db.session() as session:
        dates = {
            r.provider_id: r.activity.local_date.isoformat()
            for r in session.scalars(select(ProviderRecord))
            if r.activity is not None
        }
    assert dates == {"tokyo": "2026-05-01", "honolulu": "2026-05-31"}


def test_fetch_of_a_missing_activity_says_not_found(provider: IntervalsIcuProvider) -> None:
    with pytest.raises(ProviderError, match=r"intervals\.icu: activity i999 not found"):
        provider.fetch("i999")


def test_a_refused_key_means_reconnect(fake: IntervalsFake) -> None:
    with (
        IntervalsIcuProvider(api_key="wrong", base_url=fake.url) as provider,
        pytest.raises(ReconnectNeeded, match="connect again"),
    ):
        list(provider.pull(None, None))


def test_an_oauth_token_is_refreshed_once_on_401_then_reconnect(fake: IntervalsFake) -> None:
    fake.seed(tokens=["fresh-token"])
    handed_out: list[str] = []

    def refresh() -> str | None:
        handed_out.append("fresh-token")
        return "fresh-token"

    with IntervalsIcuProvider(
        access_token="stale-token", base_url=fake.url, refresh_access_token=refresh
    ) as provider:
        assert provider.gear() == []
    assert handed_out == ["fresh-token"]
    assert [r["auth"] for r in fake.requests()] == ["bearer", "bearer"]
    with (
        IntervalsIcuProvider(
            access_token="revoked", base_url=fake.url, refresh_access_token=lambda: "also-bad"
        ) as provider,
        pytest.raises(ReconnectNeeded, match="revoked or has expired"),
    ):
        provider.gear()


def test_429_stops_with_the_time_to_come_back(
    fake: IntervalsFake, provider: IntervalsIcuProvider
) -> None:
    fake.fail_next(429, headers={"Retry-After": "90"}, body={"status": 429, "error": "slow"})
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as raised:
        provider.gear()
    assert before + timedelta(seconds=89) <= raised.value.until
    assert raised.value.until <= datetime.now(UTC) + timedelta(seconds=91)
    # Until then the provider refuses by itself: nothing more reaches the server.
    with pytest.raises(RateLimited):
        provider.gear()
    assert len(fake.requests()) == 1


def test_strava_style_usage_headers_stop_before_the_limit_until_the_quarter_hour(
    fake: IntervalsFake, provider: IntervalsIcuProvider
) -> None:
    fake.seed(headers={"X-RateLimit-Limit": "100,1000", "X-RateLimit-Usage": "98,400"})
    provider.gear()
    with pytest.raises(RateLimited) as raised:
        provider.gear()
    until = raised.value.until
    assert until.minute % 15 == 0 and until.second == 0
    assert timedelta(0) < until - datetime.now(UTC) <= timedelta(minutes=15)
    assert len(fake.requests()) == 1
    state = provider.rate_limit_state()
    assert state is not None and state["windows"][0]["usage"] >= 98


def test_a_nearly_used_daily_budget_stops_reads_till_midnight_but_lets_an_approved_write_through(
    fake: IntervalsFake,
) -> None:
    fake.seed(
        headers={"X-RateLimit-Limit": "600,30000", "X-RateLimit-Usage": "10,29999"},
        activities=[icu_activity("i7", datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
    )
    now = datetime(2026, 5, 2, 17, 40, tzinfo=UTC)
    with IntervalsIcuProvider(api_key=KEY, base_url=fake.url, clock=lambda: now) as provider:
        provider.gear()
        with pytest.raises(RateLimited) as raised:
            provider.fetch("i7")
        assert raised.value.until == datetime(2026, 5, 3, tzinfo=UTC)
        provider.rename("i7", "Kept for what the user approved")
    assert [r["method"] for r in fake.requests()] == ["GET", "PUT"]


def test_server_errors_are_retried_a_few_times_then_reported_with_the_status(
    fake: IntervalsFake, provider: IntervalsIcuProvider, sleeps: Sleeps
) -> None:
    fake.fail_next(503, times=10)
    with pytest.raises(ProviderError, match=r"^intervals\.icu: server error 503 after 3 attempts"):
        provider.gear()
    assert len(fake.requests()) == 3
    assert sleeps.waits == [1.0, 2.0]


def test_a_server_error_that_clears_up_is_invisible(
    fake: IntervalsFake, provider: IntervalsIcuProvider, sleeps: Sleeps
) -> None:
    fake.seed(gear=[{"id": "s1", "name": "Shoes", "type": "Shoes"}])
    fake.fail_next(502)
    assert [g.name for g in provider.gear()] == ["Shoes"]
    assert len(fake.requests()) == 2 and sleeps.waits == [1.0]


def test_slow_answers_time_out_a_few_times_then_are_reported(
    fake: IntervalsFake, sleeps: Sleeps
) -> None:
    fake.fail_next(delay=5, times=3)
    with (
        IntervalsIcuProvider(
            api_key=KEY, base_url=fake.url, timeout=0.2, retry=RetryPolicy(sleep=sleeps)
        ) as provider,
        pytest.raises(ProviderError, match=r"intervals\.icu: no answer within 0\.2 s"),
    ):
        provider.gear()
    assert len(fake.requests()) == 3 and len(sleeps.waits) == 2


# -- writing (what tracekit.apply calls once the user approved a change) ------------------


def test_rename_description_and_gear_are_written_and_read_back(
    fake: IntervalsFake, provider: IntervalsIcuProvider
) -> None:
    fake.seed(
        gear=[{"id": "b1", "name": "Road bike", "type": "Bike"}],
        activities=[icu_activity("i7", datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
    )
    provider.rename("i7", "Col de la Creu")
    provider.set_description("i7", "Windy")
    provider.set_gear("i7", "b1")
    after = provider.fetch("i7")
    assert (after.name, after.description, after.gear_id) == ("Col de la Creu", "Windy", "b1")
    puts = [r["json"] for r in fake.requests() if r["method"] == "PUT"]
    assert puts == [{"name": "Col de la Creu"}, {"description": "Windy"}, {"gear": {"id": "b1"}}]


def test_a_strava_sourced_activity_cannot_be_changed_and_the_reason_is_shown(
    fake: IntervalsFake, provider: IntervalsIcuProvider
) -> None:
    fake.seed(
        activities=[{"id": "s1", "start_date_local": "2026-05-03T08:00:00", "source": "STRAVA"}]
    )
    with pytest.raises(ProviderError, match="Strava activities cannot be updated"):
        provider.rename("s1", "New name")
    with pytest.raises(ProviderError, match="not found"):
        provider.rename("gone", "New name")


def test_upload_creates_once_and_reports_the_second_as_a_duplicate(
    provider: IntervalsIcuProvider, tmp_path: Path
) -> None:
    path = tmp_path / "ride.fit"
    path.write_bytes(b"\x0e\x10fake fit bytes")
    first = provider.upload(path, "Morning ride", "tracekit-abc123456")
    again = provider.upload(path, "Morning ride", "tracekit-abc123456")
    assert not first.duplicate
    assert again.duplicate and again.provider_id == first.provider_id


def test_the_original_file_is_downloaded_byte_for_byte(
    fake: IntervalsFake, provider: IntervalsIcuProvider, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    write_activity(
        buffer, start_utc=datetime(2026, 5, 2, 6, 0, tzinfo=UTC), sport="cycling", elapsed_s=600
    )
    original = buffer.getvalue()
    fake.seed(
        activities=[icu_activity("i9", datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
        files={"i9": base64.b64encode(original).decode()},
    )
    path = provider.download_original("i9", tmp_path / "archive")
    assert path.suffix == ".fit" and path.read_bytes() == original
    again = provider.download_original("i9", tmp_path / "archive")
    assert again != path and again.read_bytes() == original  # never overwrites
