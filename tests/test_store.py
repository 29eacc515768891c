"""The store: migrations from empty, every field round-trips, days are local days."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from tracekit.paths import sqlite_url
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.canonical import local_date_of, refresh_activity
from tracekit.store.engine import Database
from tracekit.store.migrate import current_revision
from tracekit.store.models import (
    Activity,
    Gear,
    JournalEntry,
    JournalState,
    LinkOrigin,
    MatchDecision,
    MatchDecisionKind,
    Notification,
    NotificationLevel,
    ProviderGear,
    ProviderRecord,
    ProviderState,
    ProviderStatus,
    Setting,
    SyncState,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_migrations_create_every_table_from_empty(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "activity",
        "provider_record",
        "match_decision",
        "gear",
        "provider_gear",
        "sync_state",
        "provider_status",
        "notification",
        "setting",
        "journal_entry",
        "alembic_version",
    } <= tables
    assert current_revision(db.engine) is not None


def test_reopening_a_migrated_database_keeps_its_data(db_path: Path) -> None:
    first = Database(sqlite_url(db_path))
    with first.session() as session:
        session.add(Setting(key="units", value="imperial"))
    revision = current_revision(first.engine)
    first.dispose()
    second = Database(sqlite_url(db_path))
    with second.session() as session:
        assert session.get(Setting, "units") is not None
    assert current_revision(second.engine) == revision
    second.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _record(**overrides: object) -> ProviderRecord:
    values: dict[str, object] = {
        "provider": ProviderName.GARMIN,
        "provider_id": "1234567890",
        "start_utc": datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        "timezone": "America/New_York",
        "start_local": datetime(2026, 3, 8, 1, 30),
        "date_only": False,
        "elapsed_s": 3723.5,
        "moving_s": 3600.0,
        "distance_m": 30123.4,
        "sport": Sport.GRAVEL_RIDE,
        "raw_type": "cycling/gravel_cycling",
        "name": "Gravel loop",
        "description": "Windy.\nSecond line",
        "gear_id": "b123",
        "gear_name": "Grey bike",
        "device": "Garmin Edge 530",
        "avg_hr": 141.0,
        "max_hr": 177.0,
        "ascent_m": 412.0,
        "calories": 810.0,
        "start_lat": 40.7128,
        "start_lon": -74.006,
        "track": [[40.7128, -74.006], [40.72, -74.01]],
        "external_id": "garmin_123.fit",
        "checksum": "ab" * 32,
        "file_path": "/archive/2026/03/x.fit",
        "payload": {"activityId": 1234567890, "nested": {"a": [1, 2]}},
        "fetched_at": NOW,
        "changed_at": NOW,
        "link_origin": LinkOrigin.MATCHER,
        "link_score": 0.97,
        "link_explanation": {"delta_start_s": 12},
    }
    values.update(overrides)
    return ProviderRecord(**values)


def test_every_record_and_activity_field_round_trips(db: Database) -> None:
    original = _record()
    activity = Activity(created_at=NOW)
    original.activity = activity
    refresh_activity(activity, [original], NOW)
    with db.session() as session:
        session.add_all([activity, original])
    with db.session() as session:
        loaded = session.scalars(select(ProviderRecord)).one()
        for column in inspect(ProviderRecord).columns:
            assert getattr(loaded, column.key) == getattr(original, column.key), column.key
        assert loaded.start_utc is not None and loaded.start_utc.tzinfo is not None
        loaded_activity = session.get(Activity, activity.id)
        assert loaded_activity is not None
        assert loaded_activity.local_date == date(2026, 3, 8)
        assert loaded_activity.sport is Sport.GRAVEL_RIDE
        assert [r.provider_id for r in loaded_activity.records] == ["1234567890"]


def test_the_other_tables_round_trip(db: Database) -> None:
    with db.session() as session:
        gear = Gear(name="Grey bike", kind="bike", retired=True)
        session.add(gear)
        session.flush()
        session.add_all(
            [
                ProviderGear(
                    provider=ProviderName.STRAVA,
                    provider_gear_id="b42",
                    name="grey bike",
                    kind="bike",
                    retired=True,
                    gear_id=gear.id,
                    payload={"id": "b42"},
                ),
                SyncState(
                    provider=ProviderName.STRAVA,
                    pulled_from=NOW - timedelta(days=3650),
                    pulled_to=NOW,
                    last_sync_at=NOW,
                    cursor={"page": 7},
                ),
                ProviderStatus(
                    provider=ProviderName.STRAVA,
                    state=ProviderState.RATE_LIMITED,
                    last_operation="sync",
                    last_operation_at=NOW,
                    error="rate limited",
                    rate_limited_until=NOW + timedelta(minutes=15),
                    rate_limit={"short": [100, 200]},
                ),
                Notification(
                    created_at=NOW,
                    level=NotificationLevel.WARNING,
                    message="Strava paused until 12:15",
                    provider=ProviderName.STRAVA,
                ),
                JournalEntry(
                    change_id="c1",
                    provider=ProviderName.STRAVA,
                    kind="rename",
                    field="name",
                    old_value="Morning Ride",
                    new_value="Hill repeats",
                    state=JournalState.PENDING,
                    created_at=NOW,
                ),
            ]
        )
        first, second = _record(provider_id="1"), _record(provider_id="2")
        session.add_all([first, second])
        session.flush()
        session.add(
            MatchDecision(
                kind=MatchDecisionKind.NEVER,
                record_id=first.id,
                other_record_id=second.id,
                decided_at=NOW,
            )
        )
    with db.session() as session:
        status = session.get(ProviderStatus, ProviderName.STRAVA)
        assert status is not None and status.state is ProviderState.RATE_LIMITED
        assert status.rate_limited_until == NOW + timedelta(minutes=15)
        assert session.scalars(select(ProviderGear)).one().gear_id is not None
        assert session.scalars(select(MatchDecision)).one().kind is MatchDecisionKind.NEVER
        assert session.scalars(select(JournalEntry)).one().old_value == "Morning Ride"
        state = session.get(SyncState, ProviderName.STRAVA)
        assert state is not None and state.cursor == {"page": 7}


def test_a_provider_id_is_unique_per_provider(db: Database) -> None:
    with db.session() as session:
        session.add(_record(provider=ProviderName.STRAVA, provider_id="9"))
        session.add(_record(provider=ProviderName.GARMIN, provider_id="9"))
    with pytest.raises(Exception, match="UNIQUE"), db.session() as session:
        session.add(_record(provider=ProviderName.STRAVA, provider_id="9"))


def test_a_naive_datetime_is_refused_as_an_instant(db: Database) -> None:
    with pytest.raises(Exception, match="aware"), db.session() as session:
        session.add(_record(start_utc=datetime(2026, 1, 1, 8, 0)))


def test_an_evening_run_in_tokyo_lands_on_its_tokyo_date() -> None:
    # 2026-04-10 20:30 in Tokyo is 11:30 UTC the same day; 2026-04-11 01:00 Tokyo is 04-10 UTC.
    late = datetime(2026, 4, 10, 16, 0, tzinfo=UTC)
    assert local_date_of(late, None, "Asia/Tokyo") == date(2026, 4, 11)
    assert local_date_of(late, None, None) == date(2026, 4, 10)


def test_new_york_dst_days_keep_local_dates() -> None:
    # Spring forward 2026-03-08: 23:30 EDT is 03:30 UTC next day.
    assert local_date_of(datetime(2026, 3, 9, 3, 30, tzinfo=UTC), None, "America/New_York") == (
        date(2026, 3, 8)
    )
    # Fall back 2026-11-01: 23:30 EST is 04:30 UTC next day (EDT would say 03:30).
    assert local_date_of(datetime(2026, 11, 2, 4, 30, tzinfo=UTC), None, "America/New_York") == (
        date(2026, 11, 1)
    )


def test_the_local_wall_clock_wins_over_the_zone() -> None:
    assert local_date_of(
        datetime(2026, 1, 1, 4, 0, tzinfo=UTC), datetime(2025, 12, 31, 23, 0), "Europe/Berlin"
    ) == date(2025, 12, 31)


def test_the_migrations_build_exactly_the_schema_the_models_describe(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tracekit.store.models import Base

    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_list_view_without_descriptions_never_erases_a_stored_one() -> None:
    from tracekit.providers.base import RemoteActivity
    from tracekit.store.records import update_from_remote

    record = _record(description="Windy", gear_id="b1", gear_name="Grey bike")
    listed = RemoteActivity(
        provider_id=record.provider_id,
        start_utc=record.start_utc,
        sport=Sport.GRAVEL_RIDE,
        unknown=frozenset({"description", "gear_id"}),
    )
    update_from_remote(record, listed, None, NOW)
    assert (record.description, record.gear_id, record.gear_name) == ("Windy", "b1", "Grey bike")
    detailed = RemoteActivity(
        provider_id=record.provider_id, start_utc=record.start_utc, sport=Sport.GRAVEL_RIDE
    )
    assert update_from_remote(record, detailed, None, NOW)
    assert record.description is None


def test_the_head_constant_names_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tracekit.store.migrate import HEAD, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
