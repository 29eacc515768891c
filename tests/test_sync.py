"""Pulling a provider into the store: history in pages, cheap incremental syncs, rate limits,
failures, resuming without duplicates or gaps, and forgetting a provider.

The provider is the real intervals.icu client talking to the fake intervals.icu on 127.0.0.1.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.builders import gpx_bytes
from tests.fakes.cli import cli
from tests.fakes.intervals_server import IntervalsFake
from tests.fakes.keyring import MemoryKeyring, installed_memory_keyring
from tests.test_intervalsicu import KEY, Sleeps, icu_activity
from tracekit.credentials import Credentials
from tracekit.files.importer import FileImporter
from tracekit.providers.intervalsicu import IntervalsIcuProvider
from tracekit.providers.names import ProviderName
from tracekit.providers.registry import connect_intervalsicu
from tracekit.ratelimit import RetryPolicy
from tracekit.store.canonical import refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    Notification,
    NotificationLevel,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    SyncState,
)
from tracekit.sync import EPOCH, StopReason, forget_provider, sync_month, sync_provider

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Madrid", "America/New_York", "Asia/Tokyo", "America/Los_Angeles")
LIST = r"/activities$"


class Clock:
    """The time the sync and the provider see; tests move it forward instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def history(count: int) -> list[dict[str, Any]]:
    """One session a day going back `count` days, in zones around the world."""
    return [
        icu_activity(
            f"i{n}",
            NOW - timedelta(days=n, hours=5),
            ZONES[n % len(ZONES)],
            gear={"id": "b1"},
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[IntervalsFake]:
    with IntervalsFake() as server:
        monkeypatch.setenv("TRACEKIT_INTERVALSICU_URL", server.url)
        server.seed(
            api_keys=[KEY],
            gear=[{"id": "b1", "name": "Road bike", "type": "Bike"}],
            activities=history(600),
        )
        yield server


@pytest.fixture
def provider(fake: IntervalsFake, clock: Clock, sleeps: Sleeps) -> Iterator[IntervalsIcuProvider]:
    with IntervalsIcuProvider(
        api_key=KEY, base_url=fake.url, clock=clock, retry=RetryPolicy(sleep=sleeps)
    ) as client:
        yield client


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed_memory_keyring() as ring:
        yield ring


def count(db: Database, model: type[Any]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def provider_ids(db: Database) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ProviderRecord.provider_id).where(
                    ProviderRecord.provider == ProviderName.INTERVALSICU
                )
            )
        )


def status_of(db: Database) -> ProviderStatus:
    with db.session() as session:
        status = session.get(ProviderStatus, ProviderName.INTERVALSICU)
        assert status is not None
        return status


def notifications(db: Database) -> list[tuple[NotificationLevel, str]]:
    with db.session() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id))
        return [(n.level, n.message) for n in rows]


def list_requests(fake: IntervalsFake) -> list[dict[str, Any]]:
    return [r for r in fake.requests() if r["path"].endswith("/activities")]


ALL_IDS = sorted(f"i{n}" for n in range(1, 601))


def test_a_600_activity_history_arrives_in_pages_and_later_syncs_cost_one_request(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    first = sync_provider(db, provider, clock=clock)
    assert (first.new, first.updated, first.stopped) == (600, 0, None)
    assert len(list_requests(fake)) == 4  # pages of 200, each reaching back from the last
    assert first.requests == 5  # and one for the gear list
    assert sorted(provider_ids(db)) == ALL_IDS
    assert count(db, Activity) == 600  # each new record got its own activity
    with db.session() as session:
        state = session.get(SyncState, ProviderName.INTERVALSICU)
        assert state is not None
        assert (state.pulled_from, state.pulled_to, state.last_sync_at) == (EPOCH, NOW, NOW)
        names = set(session.scalars(select(ProviderRecord.gear_name)))
        assert names == {"Road bike"}
    status = status_of(db)
    assert status.state is ProviderState.OK and status.last_success_at == NOW

    clock.advance(hours=1)
    second = sync_provider(db, provider, clock=clock)
    assert (second.new, second.updated, second.requests) == (0, 0, 1)
    assert second.unchanged > 0  # the overlap was read again, and nothing changed

    clock.advance(hours=1)
    month = sync_month(db, provider, 2026, 3, clock=clock)
    assert (month.stopped, month.requests) == (StopReason.FRESH, 0)
    forced = sync_month(db, provider, 2026, 3, force=True, clock=clock)
    assert (forced.stopped, forced.requests, forced.new) == (None, 1, 0)
    assert forced.unchanged == 33  # 28 Feb – 1 Apr UTC: one a day, the month's edges included

    assert {r["method"] for r in fake.requests()} == {"GET"}  # syncing never writes


def test_a_late_upload_and_a_rename_on_the_provider_arrive_with_the_next_sync(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    sync_provider(db, provider, clock=clock)
    clock.advance(hours=3)
    renamed = icu_activity(
        "i2", NOW - timedelta(days=2, hours=5), ZONES[2], gear={"id": "b1"}, name="Hill repeats"
    )
    late = icu_activity("i9001", NOW - timedelta(days=3, hours=1), "Europe/Madrid")
    fake.seed(activities=[renamed, late])
    changed: list[list[int]] = []
    report = sync_provider(db, provider, clock=clock, on_records_changed=changed.append)
    assert (report.new, report.updated, report.requests) == (1, 1, 1)
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "i2")
        ).one()
        assert record.name == "Hill repeats" and record.changed_at == clock.now
        assert record.activity is not None and record.activity.name == "Hill repeats"
        new_id = session.scalars(
            select(ProviderRecord.id).where(ProviderRecord.provider_id == "i9001")
        ).one()
    assert sorted(id_ for batch in changed for id_ in batch) == sorted([record.id, new_id])


def test_gear_is_read_again_only_when_activities_changed_or_name_unknown_gear(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    sync_provider(db, provider, clock=clock)
    clock.advance(days=2)
    quiet = sync_provider(db, provider, clock=clock)
    assert (quiet.new, quiet.requests, quiet.gear) == (0, 1, None)  # nothing new: no gear read

    fake.seed(
        gear=[{"id": "b1", "name": "Road bike (old)"}, {"id": "s9", "name": "Trail shoes"}],
        activities=[icu_activity("i7001", clock.now - timedelta(hours=3), gear={"id": "s9"})],
    )
    busy = sync_provider(db, provider, clock=clock)
    assert (busy.new, busy.requests, busy.gear) == (1, 2, 2)
    with db.session() as session:
        rows = session.execute(select(ProviderRecord.provider_id, ProviderRecord.gear_name))
        names = {provider_id: gear_name for provider_id, gear_name in rows}
    assert names["i7001"] == "Trail shoes" and names["i1"] == "Road bike (old)"


def test_a_rate_limit_mid_history_stops_then_resumes_without_duplicates_or_gaps(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    fake.fail_next(
        429,
        headers={"Retry-After": "600"},
        body={"status": 429, "error": "Too many requests"},
        path=LIST,
        after=1,
    )
    stopped = sync_provider(db, provider, clock=clock)
    assert stopped.stopped is StopReason.RATE_LIMITED
    assert stopped.new == 200 and stopped.requests == 3  # gear, one page, the refused page
    status = status_of(db)
    assert status.state is ProviderState.RATE_LIMITED
    assert status.rate_limited_until == NOW + timedelta(minutes=10)
    assert "intervals.icu" in (status.error or "")
    ((level, message),) = notifications(db)
    assert level is NotificationLevel.WARNING and "continues from where it stopped" in message

    waiting = sync_provider(db, provider, clock=clock)
    assert (waiting.stopped, waiting.requests) == (StopReason.RATE_LIMITED, 0)

    clock.advance(minutes=11)
    resumed = sync_provider(db, provider, clock=clock)
    assert resumed.stopped is None
    assert resumed.new == 400
    ids = provider_ids(db)
    assert sorted(ids) == ALL_IDS and len(ids) == len(set(ids))
    assert count(db, Activity) == 600
    assert status_of(db).state is ProviderState.OK
    assert notifications(db)[-1] == (NotificationLevel.INFO, "intervals.icu: syncing again.")

    clock.advance(hours=1)
    assert sync_provider(db, provider, clock=clock).requests == 1


def test_a_crash_mid_history_loses_nothing_and_the_next_run_completes_it(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    def power_cut(_ids: list[int]) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        sync_provider(db, provider, clock=clock, on_records_changed=power_cut)
    assert len(provider_ids(db)) == 100  # the first batch was committed before the crash
    clock.advance(minutes=5)
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is None and report.new == 500
    assert sorted(provider_ids(db)) == ALL_IDS and count(db, Activity) == 600


def test_a_cancelled_sync_keeps_what_it_has_and_continues_next_time(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    def cancelled() -> bool:  # the user presses Cancel once 300 activities are in
        return len(provider_ids(db)) >= 300

    report = sync_provider(db, provider, clock=clock, cancelled=cancelled)
    assert report.stopped is StopReason.CANCELLED
    kept = len(provider_ids(db))
    assert 300 <= kept < 600
    assert status_of(db).state is ProviderState.OK
    rest = sync_provider(db, provider, clock=clock)
    assert rest.new == 600 - kept and sorted(provider_ids(db)) == ALL_IDS


def test_server_errors_are_retried_a_few_times_then_the_provider_shows_an_error(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock, sleeps: Sleeps
) -> None:
    fake.fail_next(500, times=10, body={"status": 500, "error": "boom"})
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.ERROR and report.requests == 3
    assert sleeps.waits == [1.0, 2.0]
    status = status_of(db)
    assert status.state is ProviderState.ERROR
    assert status.error == "intervals.icu: server error 500 after 3 attempts; try again later"
    assert notifications(db) == [(NotificationLevel.ERROR, status.error)]
    # The same failure again does not pile up notifications.
    sync_provider(db, provider, clock=clock)
    assert len(notifications(db)) == 1


def test_timeouts_are_retried_a_few_times_then_the_provider_shows_an_error(
    fake: IntervalsFake, db: Database, clock: Clock, sleeps: Sleeps
) -> None:
    fake.fail_next(delay=5, times=3)
    with IntervalsIcuProvider(
        api_key=KEY, base_url=fake.url, clock=clock, timeout=0.2, retry=RetryPolicy(sleep=sleeps)
    ) as slow:
        report = sync_provider(db, slow, clock=clock)
    assert report.stopped is StopReason.ERROR and report.requests == 3
    status = status_of(db)
    assert status.state is ProviderState.ERROR
    assert status.error is not None and status.error.startswith("intervals.icu: no answer within")
    assert provider_ids(db) == []


def test_a_refused_key_marks_the_provider_as_needing_a_reconnect(
    fake: IntervalsFake, provider: IntervalsIcuProvider, db: Database, clock: Clock
) -> None:
    fake.fail_next(401, body={"status": 401, "error": "Unauthorized"})
    report = sync_provider(db, provider, clock=clock)
    assert report.stopped is StopReason.RECONNECT_NEEDED and report.requests == 1
    status = status_of(db)
    assert status.state is ProviderState.RECONNECT_NEEDED
    ((level, message),) = notifications(db)
    assert level is NotificationLevel.ERROR and "connect again" in message


def test_forgetting_a_provider_removes_all_it_brought_and_nothing_else(
    fake: IntervalsFake,
    provider: IntervalsIcuProvider,
    db: Database,
    clock: Clock,
    archive_dir: Path,
    tmp_path: Path,
) -> None:
    fake.reset()  # a small history keeps the counts readable
    fake.seed(
        api_keys=[KEY],
        gear=[{"id": "b1", "name": "Road bike", "type": "Bike"}],
        activities=history(5),
    )
    ride = tmp_path / "ride.gpx"
    ride.write_bytes(gpx_bytes(NOW - timedelta(days=1, hours=5), kind="cycling"))
    imported = FileImporter(db, archive_dir).run([ride])
    (file_item,) = imported.imported
    sync_provider(db, provider, clock=clock)
    with db.session() as session:  # as the matcher would: i1 is the same session as the file
        record = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "i1")
        ).one()
        orphan = record.activity
        shared = session.get(Activity, file_item.activity_id)
        assert orphan is not None and shared is not None
        record.activity = shared
        session.flush()
        session.delete(orphan)
        refresh_activity(shared, shared.records, NOW)
    assert count(db, Activity) == 5

    forgotten = forget_provider(db, ProviderName.INTERVALSICU)
    assert (forgotten.records, forgotten.activities_removed, forgotten.gear) == (5, 4, 1)
    assert provider_ids(db) == []
    assert count(db, ProviderGear) == 0
    with db.session() as session:
        assert session.get(SyncState, ProviderName.INTERVALSICU) is None
        (left,) = session.scalars(select(ProviderRecord)).all()
        assert left.provider is ProviderName.FILE
        (activity,) = session.scalars(select(Activity)).all()
        assert activity.id == file_item.activity_id
        assert [r.provider for r in activity.records] == [ProviderName.FILE]


def test_cli_sync_reports_counts_as_json_and_exits_1_when_a_provider_failed(
    fake: IntervalsFake,
    memory_keyring: MemoryKeyring,
    db: Database,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.reset()
    fake.seed(api_keys=[KEY], activities=history(3))
    connect_intervalsicu(db, Credentials(), api_key=KEY)
    assert cli("--db", str(db_path), "sync", "--json") == 0
    report = json.loads(capsys.readouterr().out)["providers"]["intervalsicu"]
    assert (report["new"], report["stopped"]) == (3, None)

    fake.fail_next(429, headers={"Retry-After": "120"})
    assert cli("--db", str(db_path), "sync", "intervalsicu") == 1
    err = capsys.readouterr().err
    assert "intervals.icu: rate limited (429)" in err
    assert "it continues where it stopped" in err

    assert cli("--db", str(db_path), "sync", "strava") == 1
    assert "Strava is not connected" in capsys.readouterr().err

    assert cli("--db", str(db_path), "disconnect", "intervalsicu", "--forget") == 0
    assert "Deleted 3 records" in capsys.readouterr().out
    assert provider_ids(db) == [] and memory_keyring.entries == {}
    assert {r["method"] for r in fake.requests()} == {"GET"}
