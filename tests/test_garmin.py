"""Garmin Connect end to end against a fake of its API on 127.0.0.1 (never the internet).

The real garminconnect library talks to the fake: a token store is loaded (a JWT-shaped token
with a far `exp`) and the library's API base is pointed at 127.0.0.1, as Tracekit's adapter does.
"""

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import keyring
import pytest
from keyring.errors import KeyringLocked
from sqlalchemy import select

from tests.fakes import import_fit, record
from tests.fakes.garmin_server import CLIENT_ID, GarminFake, make_jwt, token_store
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tracekit.apply import OutcomeStatus, apply
from tracekit.changes import ChangeKind
from tracekit.credentials import SERVICE, Credentials
from tracekit.files.fit_writer import write_activity
from tracekit.proposals import propose
from tracekit.providers.base import ProviderError, RateLimited, ReconnectNeeded
from tracekit.providers.garmin import GarminProvider, build_garmin
from tracekit.providers.names import ProviderName
from tracekit.ratelimit import RetryPolicy
from tracekit.settings import Settings
from tracekit.sports import Sport
from tracekit.store.engine import Database
from tracekit.store.models import Activity, ProviderRecord, ProviderState, ProviderStatus
from tracekit.sync import StopReason, sync_provider

GARMIN = ProviderName.GARMIN
TIME = "%Y-%m-%d %H:%M:%S"
ACCESS = make_jwt(jti="connected")
WRITES = {"PUT", "POST", "DELETE", "PATCH"}


def garmin_activity(
    activity_id: int, start_utc: datetime, zone: str = "Europe/Madrid", **fields: Any
) -> dict[str, Any]:
    """An activity as Garmin's activity list returns it."""
    local = start_utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    item: dict[str, Any] = {
        "activityId": activity_id,
        "activityName": "Girona Cycling",
        "startTimeLocal": local.strftime(TIME),
        "startTimeGMT": start_utc.astimezone(UTC).strftime(TIME),
        "activityType": {"typeId": 2, "typeKey": "cycling", "parentTypeId": 17},
        "distance": 30120.5,
        "duration": 3900.0,
        "movingDuration": 3850.0,
        "elapsedDuration": 4200.0,
    }
    item.update(fields)
    return item


def fit_bytes(start_utc: datetime, elapsed_s: float = 3600.0) -> bytes:
    buffer = io.BytesIO()
    write_activity(
        buffer, start_utc=start_utc, sport="cycling", elapsed_s=elapsed_s, distance_m=30000.0
    )
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Sleeps:
    """Stands in for time.sleep in retry back-off: records the waits, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake() -> Iterator[GarminFake]:
    with GarminFake() as server:
        server.seed(access_tokens=[ACCESS], refresh_tokens={"refresh-1": CLIENT_ID})
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def saved_tokens() -> list[str]:
    return []


@pytest.fixture
def provider(fake: GarminFake, sleeps: Sleeps, saved_tokens: list[str]) -> Iterator[GarminProvider]:
    with GarminProvider(
        token_store=token_store(ACCESS),
        base_url=fake.url,
        retry=RetryPolicy(sleep=sleeps),
        on_token_store=saved_tokens.append,
    ) as client:
        yield client


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


def writes(fake: GarminFake) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in fake.api_requests() if r["method"] in WRITES]


def list_requests(fake: GarminFake) -> list[dict[str, Any]]:
    return [r for r in fake.requests() if r["path"].endswith("/search/activities")]


# -- reading ------------------------------------------------------------------------------


def test_an_activity_arrives_in_si_units_utc_with_its_clock_sport_device_gear_and_evidence(
    fake: GarminFake, provider: GarminProvider, db: Database
) -> None:
    start = datetime(2026, 5, 2, 6, 15, tzinfo=UTC)
    fake.seed(
        devices=[{"deviceId": 3442975663, "productDisplayName": "Edge 540", "displayName": "E"}],
        gear=[
            {
                "uuid": "a1b2c3",
                "displayName": "Gravel bike",
                "gearTypeName": "Bike",
                "gearStatusName": "active",
            },
            {
                "uuid": "d4e5f6",
                "displayName": "Old shoes",
                "gearTypeName": "Shoes",
                "gearStatusName": "retired",
            },
        ],
        activities=[
            garmin_activity(
                19876543210,
                start,
                "America/New_York",
                activityName="Col de la Creu",
                activityType={"typeId": 143, "typeKey": "gravel_cycling", "parentTypeId": 2},
                averageHR=141.0,
                maxHR=172.0,
                elevationGain=410.0,
                calories=812.0,
                startLatitude=41.98,
                startLongitude=2.82,
                deviceId=3442975663,
            ),
            garmin_activity(
                19876543211,
                start + timedelta(days=1),
                activityName="Treadmill",
                activityType={"typeId": 18, "typeKey": "treadmill_running", "parentTypeId": 1},
            ),
        ],
        links={"19876543210": ["a1b2c3"]},
    )

    report = sync_provider(db, provider)

    assert (report.new, report.stopped, report.gear) == (2, None, 2)
    with db.session() as session:
        records = {r.provider_id: r for r in session.scalars(select(ProviderRecord))}
        ride = records["19876543210"]
        assert ride.provider is GARMIN and ride.start_utc == start
        assert ride.start_local == datetime(2026, 5, 2, 2, 15)  # New York's wall clock
        assert ride.timezone is None  # Garmin's list names no zone
        assert ride.sport is Sport.GRAVEL_RIDE and ride.raw_type == "gravel_cycling"
        assert (ride.distance_m, ride.moving_s, ride.elapsed_s) == (30120.5, 3850.0, 4200.0)
        assert (ride.avg_hr, ride.max_hr, ride.ascent_m, ride.calories) == (141, 172, 410, 812)
        assert (ride.start_lat, ride.start_lon) == (41.98, 2.82)
        assert ride.name == "Col de la Creu" and ride.device == "Edge 540"
        assert ride.gear_id == "a1b2c3" and ride.gear_name == "Gravel bike"
        assert set(ride.evidence or []) == {"garmin:19876543210"}
        assert ride.payload is not None and ride.payload["activityId"] == 19876543210
        activity = session.get(Activity, ride.activity_id)
        assert activity is not None and activity.local_date.isoformat() == "2026-05-02"
        run = records["19876543211"]
        assert run.sport is Sport.VIRTUAL_RUN and run.gear_id is None and run.device is None


def test_45_activities_come_in_three_pages_of_20_and_the_empty_one(
    fake: GarminFake, provider: GarminProvider
) -> None:
    first = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    fake.seed(activities=[garmin_activity(5000 + n, first + timedelta(days=n)) for n in range(45)])

    pulled = list(provider.pull(None, datetime(2026, 5, 1, tzinfo=UTC)))

    assert len(pulled) == 45 and len({a.provider_id for a in pulled}) == 45
    assert pulled[0].provider_id == "5044"  # newest first
    pages = list_requests(fake)
    assert [r["query"]["start"] for r in pages] == ["0", "20", "40", "60"]
    assert {r["query"]["limit"] for r in pages} == {"20"}
    assert {(r["query"]["startDate"], r["query"]["endDate"]) for r in pages} == {
        ("1970-01-01", "2026-05-01")
    }


def test_a_utc_range_asks_for_the_local_dates_around_it_and_keeps_only_the_range(
    fake: GarminFake, provider: GarminProvider
) -> None:
    fake.seed(
        activities=[
            # 1 May 01:00 in Tokyo is still 30 April in UTC: outside a UTC May.
            garmin_activity(1, datetime(2026, 4, 30, 16, 0, tzinfo=UTC), "Asia/Tokyo"),
            garmin_activity(2, datetime(2026, 5, 10, 9, 0, tzinfo=UTC)),
            # 31 May 23:00 in Honolulu is already 1 June in UTC.
            garmin_activity(3, datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "Pacific/Honolulu"),
        ]
    )
    since, until = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)

    pulled = [a.provider_id for a in provider.pull(since, until)]

    assert pulled == ["2"]
    (query,) = {(r["query"]["startDate"], r["query"]["endDate"]) for r in list_requests(fake)}
    assert query == ("2026-04-30", "2026-06-01")


def test_a_second_sync_costs_at_most_one_request(
    fake: GarminFake, provider: GarminProvider, db: Database
) -> None:
    first = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    fake.seed(
        devices=[{"deviceId": 1, "productDisplayName": "Forerunner 965"}],
        gear=[{"uuid": "b1", "displayName": "Shoes", "gearStatusName": "active"}],
        activities=[
            garmin_activity(7000 + n, first + timedelta(days=n), deviceId=1) for n in range(25)
        ],
        links={str(7000 + n): ["b1"] for n in range(25)},
    )
    assert sync_provider(db, provider).new == 25
    before = len(fake.requests())

    again = sync_provider(db, provider)

    assert (again.new, again.updated, again.stopped) == (0, 0, None)
    assert len(fake.requests()) - before <= 1
    assert again.requests is not None and again.requests <= 1


def test_a_sync_stopped_by_a_rate_limit_resumes_where_it_stopped(
    fake: GarminFake, sleeps: Sleeps, db: Database
) -> None:
    first = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    fake.seed(activities=[garmin_activity(8000 + n, first + timedelta(days=n)) for n in range(45)])
    fake.fail_next(429, path="/search/activities", after=2, body="<html>Access denied</html>")
    store = token_store(ACCESS)
    now = datetime.now(UTC)

    with GarminProvider(token_store=store, base_url=fake.url, retry=RetryPolicy(sleep=sleeps)) as p:
        stopped = sync_provider(db, p)

    assert stopped.stopped is StopReason.RATE_LIMITED and stopped.new == 40
    until = stopped.rate_limited_until
    assert until is not None and timedelta(minutes=59) < until - now <= timedelta(minutes=61)
    assert "try again after" in (stopped.message or "")
    with db.session() as session:
        status = session.get(ProviderStatus, GARMIN)
        assert status is not None and status.state is ProviderState.RATE_LIMITED
    asked = len(fake.requests())
    with GarminProvider(token_store=store, base_url=fake.url) as p:
        assert sync_provider(db, p).stopped is StopReason.RATE_LIMITED
    assert len(fake.requests()) == asked  # nothing is asked before the back-off ends

    later = now + timedelta(hours=2)
    with GarminProvider(token_store=store, base_url=fake.url, clock=lambda: later) as p:
        resumed = sync_provider(db, p, clock=lambda: later)

    assert (resumed.stopped, resumed.new) == (None, 5)
    with db.session() as session:
        ids = list(session.scalars(select(ProviderRecord.provider_id)))
    assert sorted(ids) == sorted(str(8000 + n) for n in range(45))


def test_fetch_of_a_missing_activity_says_not_found(provider: GarminProvider) -> None:
    with pytest.raises(ProviderError, match=r"^Garmin Connect: activity 404404 not found"):
        provider.fetch("404404")


# -- tokens, refusals, throttling and server errors ----------------------------------------


def test_an_expired_sign_in_is_refreshed_once_kept_and_the_request_retried(
    fake: GarminFake, saved_tokens: list[str]
) -> None:
    stale = make_jwt(jti="revoked-by-garmin")  # its exp is far away, but Garmin refuses it
    with GarminProvider(
        token_store=token_store(stale), base_url=fake.url, on_token_store=saved_tokens.append
    ) as provider:
        assert provider.gear() == []

    assert [(r["method"], r["path"]) for r in fake.requests()][:3] == [
        ("GET", "/device-service/deviceservice/mylastused"),
        ("POST", "/di-oauth2-service/oauth/token"),
        ("GET", "/device-service/deviceservice/mylastused"),
    ]
    (kept,) = saved_tokens
    assert json.loads(kept)["di_token"] != stale
    # The next run starts from the kept sign-in: no refresh, and Garmin accepts it.
    fake.reset()
    fake.seed(access_tokens=[json.loads(kept)["di_token"]])
    with GarminProvider(token_store=kept, base_url=fake.url) as provider:
        assert provider.gear() == []
    assert "/di-oauth2-service/oauth/token" not in {r["path"] for r in fake.requests()}


def test_a_sign_in_garmin_no_longer_accepts_means_connect_again(fake: GarminFake) -> None:
    revoked = token_store(make_jwt(jti="revoked"), refresh="refresh-unknown")
    with (
        GarminProvider(token_store=revoked, base_url=fake.url) as provider,
        pytest.raises(ReconnectNeeded, match="tracekit connect garmin"),
    ):
        list(provider.pull(None, None))
    paths = [r["path"] for r in fake.requests()]
    assert paths.count("/di-oauth2-service/oauth/token") == 1  # refreshed once, not in a loop


def test_refreshed_tokens_replace_the_keyring_entry_whole(
    fake: GarminFake, memory_keyring: MemoryKeyring
) -> None:
    credentials = Credentials()
    credentials.save_json(
        GARMIN, "oauth", json.loads(token_store(make_jwt(jti="stale"), refresh="refresh-1"))
    )
    provider = build_garmin({"auth": "oauth"}, credentials, base_url=fake.url)
    assert provider is not None
    with provider:
        provider.gear()
    stored = json.loads(memory_keyring.entries[(SERVICE, "garmin:oauth")])
    assert stored["di_refresh_token"].startswith("refresh-rotated")
    assert list(memory_keyring.entries) == [(SERVICE, "garmin:oauth")]


class LockedAfterReading(MemoryKeyring):
    """A keyring that can be read but refuses writes, like one locked mid-session."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")


def test_a_refreshed_sign_in_the_keyring_will_not_keep_is_reported(fake: GarminFake) -> None:
    ring = LockedAfterReading()
    ring.entries[(SERVICE, "garmin:oauth")] = token_store(make_jwt(jti="stale"))
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        provider = build_garmin({"auth": "oauth"}, Credentials(), base_url=fake.url)
        assert provider is not None
        with provider, pytest.raises(ProviderError, match="refreshed sign-in could not be kept"):
            provider.gear()
    finally:
        keyring.set_keyring(previous)


def test_no_sign_in_in_the_keyring_builds_no_provider(memory_keyring: MemoryKeyring) -> None:
    assert build_garmin({"auth": "oauth"}, Credentials()) is None


def test_the_api_address_can_only_be_replaced_by_a_local_one(fake: GarminFake) -> None:
    with (
        GarminProvider(token_store=token_store(ACCESS), base_url="https://example.org") as p,
        pytest.raises(ProviderError, match="only be replaced by one on this computer"),
    ):
        p.gear()


def test_429_stops_with_the_time_to_come_back_and_asks_nothing_more_until_then(
    fake: GarminFake, provider: GarminProvider
) -> None:
    fake.fail_next(429, headers={"Retry-After": "90"}, body="<html>Access denied</html>")
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as raised:
        provider.gear()
    assert before + timedelta(seconds=89) <= raised.value.until
    assert raised.value.until <= datetime.now(UTC) + timedelta(seconds=91)
    assert "try again after" in str(raised.value)
    with pytest.raises(RateLimited):
        provider.gear()
    assert len(fake.requests()) == 1


def test_429_without_retry_after_backs_off_for_an_hour(
    fake: GarminFake, provider: GarminProvider
) -> None:
    fake.fail_next(429)
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as raised:
        list(provider.pull(None, None))
    assert timedelta(minutes=59) < raised.value.until - before <= timedelta(minutes=61)


def test_server_errors_are_retried_a_few_times_then_reported_with_the_status(
    fake: GarminFake, provider: GarminProvider, sleeps: Sleeps
) -> None:
    fake.fail_next(503, times=10)
    with pytest.raises(ProviderError, match=r"^Garmin Connect: server error 503 after 3 attempts"):
        provider.gear()
    assert len(fake.requests()) == 3
    assert sleeps.waits == [1.0, 2.0]


def test_a_server_error_that_clears_up_is_invisible(
    fake: GarminFake, provider: GarminProvider, sleeps: Sleeps
) -> None:
    fake.seed(gear=[{"uuid": "s1", "displayName": "Shoes", "gearStatusName": "active"}])
    fake.fail_next(502)
    assert [g.name for g in provider.gear()] == ["Shoes"]
    assert sleeps.waits == [1.0]


def test_slow_answers_time_out_a_few_times_then_are_reported(
    fake: GarminFake, sleeps: Sleeps
) -> None:
    fake.fail_next(delay=5, times=3)
    with (
        GarminProvider(
            token_store=token_store(ACCESS),
            base_url=fake.url,
            timeout=0.2,
            retry=RetryPolicy(sleep=sleeps),
        ) as provider,
        pytest.raises(ProviderError, match=r"^Garmin Connect: no answer within 0\.2 s"),
    ):
        provider.gear()
    assert len(fake.requests()) == 3 and len(sleeps.waits) == 2


# -- writing (what tracekit.apply calls once the user approved a change) ------------------


def test_rename_is_written_and_read_back(fake: GarminFake, provider: GarminProvider) -> None:
    fake.seed(activities=[garmin_activity(31, datetime(2026, 5, 2, 6, 0, tzinfo=UTC))])
    provider.rename("31", "Col de la Creu")
    assert provider.fetch("31").name == "Col de la Creu"
    puts = [r["json"] for r in fake.requests() if r["method"] == "PUT"]
    assert puts == [{"activityId": 31, "activityName": "Col de la Creu"}]
    with pytest.raises(ProviderError, match="activity 32 not found"):
        provider.rename("32", "Gone")


def test_gear_is_linked_before_the_old_gear_is_unlinked_and_can_be_cleared(
    fake: GarminFake, provider: GarminProvider
) -> None:
    fake.seed(
        gear=[
            {"uuid": "aaa1", "displayName": "Road bike", "gearStatusName": "active"},
            {"uuid": "bbb2", "displayName": "Gravel bike", "gearStatusName": "active"},
            {"uuid": "ccc3", "displayName": "Old bike", "gearStatusName": "retired"},
        ],
        activities=[garmin_activity(41, datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
        links={"41": ["aaa1"]},
    )

    provider.set_gear("41", "bbb2")

    assert provider.fetch("41").gear_id == "bbb2"
    assert writes(fake) == [
        ("PUT", "/gear-service/gear/link/bbb2/activity/41"),
        ("PUT", "/gear-service/gear/unlink/aaa1/activity/41"),
    ]
    with pytest.raises(ProviderError, match="“Old bike” is retired"):
        provider.set_gear("41", "ccc3")
    assert provider.fetch("41").gear_id == "bbb2"  # a refused link changes nothing
    provider.set_gear("41", None)
    assert provider.fetch("41").gear_id is None


def test_upload_creates_once_with_the_name_and_reports_the_second_as_a_duplicate(
    fake: GarminFake, provider: GarminProvider, tmp_path: Path
) -> None:
    path = tmp_path / "ride.fit"
    path.write_bytes(fit_bytes(datetime(2026, 5, 2, 6, 0, tzinfo=UTC)))

    first = provider.upload(path, "Morning loop", "tracekit-12")
    again = provider.upload(path, "Morning loop", "tracekit-12")

    assert not first.duplicate
    assert again.duplicate and again.provider_id == first.provider_id
    assert provider.fetch(first.provider_id).name == "Morning loop"
    uploads = [r for r in fake.requests() if r["path"] == "/upload-service/upload"]
    assert [r["file"] for r in uploads] == ["tracekit-12.fit", "tracekit-12.fit"]
    renames = [r for r in fake.requests() if r["method"] == "PUT"]
    assert len(renames) == 1  # only the new activity is named; the duplicate keeps its name


def test_a_file_garmin_cannot_read_is_refused_with_its_reason(
    provider: GarminProvider, tmp_path: Path
) -> None:
    path = tmp_path / "broken.fit"
    path.write_bytes(b"\x0e\x10\x00\x00\x10\x00\x00\x00.FIT" + b"\x00" * 8)
    with pytest.raises(ProviderError, match="refused the file"):
        provider.upload(path, None, "tracekit-13")


def test_the_original_is_unzipped_into_the_folder_and_never_overwrites(
    fake: GarminFake, provider: GarminProvider, tmp_path: Path
) -> None:
    original = fit_bytes(datetime(2026, 5, 2, 6, 0, tzinfo=UTC))
    fake.seed(
        activities=[garmin_activity(51, datetime(2026, 5, 2, 6, 0, tzinfo=UTC))],
        originals={"51": b64(original)},
    )
    fake.fail_next(503, path="/download-service/")  # a retried download starts clean

    path = provider.download_original("51", tmp_path / "in")
    again = provider.download_original("51", tmp_path / "in")

    assert path.name == "garmin-51.fit" and path.read_bytes() == original
    assert again != path and again.read_bytes() == original
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [
        "garmin-51-1.fit",
        "garmin-51.fit",
    ]
    with pytest.raises(ProviderError, match="activity 52 has no original file"):
        provider.download_original("52", tmp_path / "in")


def test_a_hostile_zip_is_refused_and_nothing_lands_outside_the_folder(
    fake: GarminFake, provider: GarminProvider, tmp_path: Path
) -> None:
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../escaped.fit", b"not really")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.txt", b"no activity here")
    fake.seed(
        activities=[
            garmin_activity(61, datetime(2026, 5, 2, 6, 0, tzinfo=UTC)),
            garmin_activity(62, datetime(2026, 5, 3, 6, 0, tzinfo=UTC)),
        ],
        zips={"61": b64(evil.getvalue()), "62": b64(empty.getvalue())},
    )
    folder = tmp_path / "deep" / "in"

    with pytest.raises(ProviderError, match="points outside the archive"):
        provider.download_original("61", folder)
    with pytest.raises(ProviderError, match="holds no FIT, GPX or TCX file"):
        provider.download_original("62", folder)

    assert list(folder.iterdir()) == []
    assert (
        not (tmp_path / "escaped.fit").exists() and not (tmp_path / "deep" / "escaped.fit").exists()
    )


# -- only through apply --------------------------------------------------------------------


def test_syncing_and_reviewing_send_no_write_and_an_approved_rename_sends_exactly_it(
    fake: GarminFake, provider: GarminProvider, db: Database
) -> None:
    start = datetime(2026, 5, 2, 6, 0, tzinfo=UTC)
    fake.seed(activities=[garmin_activity(71, start, activityName="Girona Cycling")])
    sync_provider(db, provider)
    with db.session() as session:
        garmin = session.scalars(select(ProviderRecord)).one()
        session.add(
            record(
                ProviderName.RIDEWITHGPS,
                "r71",
                name="Els Àngels",
                start_utc=start,
                activity_id=garmin.activity_id,
            )
        )
    providers = {GARMIN: provider}
    with db.session() as session:
        ids = list(session.scalars(select(Activity.id)))
        changes = propose(session, ids, Settings(), {GARMIN: provider.capabilities})
    rename = next(c for c in changes if c.kind is ChangeKind.RENAME)
    assert writes(fake) == []  # pulling, matching and proposing never write

    (outcome,) = apply(db, [rename.id], providers, Settings())

    assert (outcome.status, outcome.message) == (OutcomeStatus.DONE, "renamed on Garmin Connect")
    assert writes(fake) == [("PUT", "/activity-service/activity/71")]
    with db.session() as session:
        assert (
            session.scalars(
                select(ProviderRecord.name).where(ProviderRecord.provider == GARMIN)
            ).one()
            == "Els Àngels"
        )


def test_adding_a_file_to_garmin_through_apply_uploads_it_and_links_what_came_back(
    fake: GarminFake, provider: GarminProvider, db: Database, archive_dir: Path, tmp_path: Path
) -> None:
    record_id = import_fit(db, archive_dir, tmp_path / "in")
    with db.session() as session:
        ids = list(session.scalars(select(Activity.id)))
        changes = propose(session, ids, Settings(), {GARMIN: provider.capabilities})
    (upload,) = [c for c in changes if c.kind is ChangeKind.ADD_TO_PROVIDER]

    (outcome,) = apply(db, [upload.id], {GARMIN: provider}, Settings())

    assert outcome.status is OutcomeStatus.DONE, outcome.message
    assert outcome.message.startswith("uploaded to Garmin Connect as ")
    with db.session() as session:
        original = session.get(ProviderRecord, record_id)
        uploaded = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider == GARMIN)
        ).one()
        assert original is not None and uploaded.activity_id == original.activity_id
    assert [m for m, _ in writes(fake)] == ["POST"]


def test_downloading_the_original_through_apply_archives_it_and_links_it(
    fake: GarminFake, provider: GarminProvider, db: Database, archive_dir: Path
) -> None:
    start = datetime(2026, 5, 2, 6, 0, tzinfo=UTC)
    fake.seed(
        activities=[garmin_activity(81, start, activityName="Els Àngels")],
        originals={"81": b64(fit_bytes(start))},
    )
    sync_provider(db, provider)
    with db.session() as session:
        ids = list(session.scalars(select(Activity.id)))
        changes = propose(session, ids, Settings(), {GARMIN: provider.capabilities})
    (download,) = [c for c in changes if c.kind is ChangeKind.DOWNLOAD_ORIGINAL]

    (outcome,) = apply(db, [download.id], {GARMIN: provider}, Settings())

    assert outcome.status is OutcomeStatus.DONE, outcome.message
    assert outcome.message.startswith("downloaded from Garmin Connect; archived as ")
    with db.session() as session:
        (activity,) = session.scalars(select(Activity)).all()
        files = [r for r in activity.records if r.provider is ProviderName.FILE]
        assert len(files) == 1 and files[0].file_path is not None
        assert archive_dir in Path(files[0].file_path).parents
        assert files[0].start_utc == start
    assert writes(fake) == []
