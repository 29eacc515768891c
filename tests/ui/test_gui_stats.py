"""tracekit.stats, the window's Qt-free read models: month grid, period and gear stats, the
activity detail, the provider rows."""

from datetime import UTC, date, datetime, timedelta

from tests.fakes import add_activity, record
from tracekit.calendar import YearMonth, month_view
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.sports import Sport
from tracekit.stats import (
    Amount,
    DetailField,
    Grouping,
    Period,
    ProviderRow,
    activity_detail,
    describe_link,
    gear_report,
    link_candidates,
    month_grid,
    newest_activity,
    period_stats,
    provider_overview,
    provider_url,
    week_start,
    year_totals,
    years_with_data,
)
from tracekit.store.engine import Database
from tracekit.store.models import (
    Gear,
    Pin,
    ProviderGear,
    ProviderState,
    ProviderStatus,
    ReviewFlag,
    ReviewKind,
)
from tracekit.units import UnitSystem

GARMIN, STRAVA, RWGPS, FILE = (
    ProviderName.GARMIN,
    ProviderName.STRAVA,
    ProviderName.RIDEWITHGPS,
    ProviderName.FILE,
)


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def seed_year(db: Database) -> dict[str, int]:
    """2026: rides on 5 Jan and 3 Feb (the Feb one on a pinned bike), a run on 4 Feb without
    gear, yoga on 1 Feb; a 2024 run."""
    ids: dict[str, int] = {}
    with db.session() as session:
        bike = Gear(name="Red road bike", kind="bike")
        session.add(bike)
        session.flush()
        session.add(
            ProviderGear(provider=GARMIN, provider_gear_id="701", name="Road", gear_id=bike.id)
        )
        ids["jan"] = add_activity(
            session,
            record(
                GARMIN, "g1", start_utc=at(date(2026, 1, 5)), distance_m=40_000.0, gear_id="701"
            ),
            record(STRAVA, "s1", start_utc=at(date(2026, 1, 5)), gear_name="Strava bike"),
        ).id
        feb = add_activity(
            session,
            record(
                GARMIN, "g2", start_utc=at(date(2026, 2, 3)), distance_m=20_000.0, gear_id="701"
            ),
        )
        session.add(
            Pin(
                activity_id=feb.id,
                field="gear",
                value="Grey gravel bike",
                pinned_at=at(date(2026, 2, 3)),
            )
        )
        ids["feb"] = feb.id
        ids["run"] = add_activity(
            session,
            record(
                GARMIN,
                "g3",
                sport=Sport.RUN,
                start_utc=at(date(2026, 2, 4)),
                distance_m=10_000.0,
                elapsed_s=3000.0,
            ),
            record(
                STRAVA,
                "s3",
                sport=Sport.RUN,
                start_utc=at(date(2026, 2, 4)),
                gear_name="Only on Strava",
            ),
        ).id
        ids["yoga"] = add_activity(
            session,
            record(
                GARMIN,
                "g4",
                sport=Sport.YOGA,
                start_utc=at(date(2026, 2, 1)),
                distance_m=None,
                elapsed_s=1800.0,
            ),
        ).id
        ids["old"] = add_activity(
            session,
            record(
                GARMIN, "g5", sport=Sport.RUN, start_utc=at(date(2024, 6, 1)), distance_m=5000.0
            ),
        ).id
    return ids


def test_month_grid_follows_the_first_weekday_and_sums_weeks(db: Database) -> None:
    seed_year(db)
    with db.session() as session:
        view = month_view(session, YearMonth(2026, 2))
    monday = month_grid(view, 0)
    sunday = month_grid(view, 6)
    assert monday.weeks[0].days[0] == date(2026, 1, 26)  # February 2026 starts on a Sunday
    assert sunday.weeks[0].days[0] == date(2026, 2, 1)
    assert all(len(w.days) == 7 for w in monday.weeks)
    assert sum(w.totals.count for w in monday.weeks) == 3 == view.totals.count
    assert monday.weeks[0].totals.count == 1  # Sunday 1 Feb yoga in the week of 26 Jan
    assert week_start(date(2026, 2, 4), 6) == date(2026, 2, 1)


def test_period_stats_per_month_and_week_by_family_and_sport(db: Database) -> None:
    seed_year(db)
    with db.session() as session:
        months = period_stats(session, 2026, Period.MONTH, Grouping.FAMILY)
        weeks = period_stats(session, 2026, Period.WEEK, Grouping.SPORT, first_weekday=0)
        assert year_totals(session, 2026).count == 4
        assert years_with_data(session) == (2024, 2025, 2026)
    assert [b.label for b in months.buckets][:3] == ["Jan", "Feb", "Mar"]
    assert months.groups == ("cycling", "running", "gym")
    assert months.buckets[0].amounts["cycling"] == Amount(1, 40_000.0, 3600.0)
    assert months.buckets[1].amounts["running"].distance_m == 10_000.0
    assert months.total.count == 4
    assert weeks.buckets[0].start == date(2025, 12, 29)  # the week holding 1 Jan
    assert sum(b.total.count for b in weeks.buckets) == 4
    feb_week = next(b for b in weeks.buckets if b.start == date(2026, 2, 2))
    assert set(feb_week.amounts) == {"ride", "run"}


def test_gear_report_uses_pins_then_priority_and_lists_activities_without_gear(
    db: Database,
) -> None:
    ids = seed_year(db)
    with db.session() as session:
        report = gear_report(session, Settings(), 2026)
        everything = gear_report(session, Settings(write_only=frozenset()), None)
    assert [(g.name, g.amount.count, g.amount.distance_m) for g in report.gear] == [
        ("Red road bike", 1, 40_000.0),
        ("Grey gravel bike", 1, 20_000.0),
    ]
    # the run's only gear is Strava's, and Strava is write-only: it lacks gear; yoga never does
    assert [m.activity_id for m in report.missing] == [ids["run"]]
    assert "Only on Strava" in [g.name for g in everything.gear]
    assert [m.activity_id for m in everything.missing] == [ids["old"]]


def test_activity_detail_side_by_side_with_links_urls_review_and_track(db: Database) -> None:
    with db.session() as session:
        activity = add_activity(
            session,
            record(
                GARMIN,
                "17000000007",
                name="Col de Rates",
                track=[[41.9, 2.8], [41.91, 2.81], [41.92, 2.8]],
            ),
            record(RWGPS, "310000011", name="Col de Rates"),
            record(STRAVA, "12400000013", name="Morning Ride", distance_m=30_100.0),
        )
        records = {r.provider: r for r in activity.records}
        records[GARMIN].link_score = 0.93
        records[GARMIN].link_explanation = {
            "summary": "starts 5 s apart (utc)",
            "reason": "score",
            "with": {"provider": "ridewithgps", "id": "310000011"},
            "basis": "utc",
            "start_delta_s": 5.0,
            "evidence": "sha256:" + "ab" * 32,
        }
        session.add(
            ReviewFlag(
                kind=ReviewKind.AMBIGUOUS,
                record_ids=[records[RWGPS].id],
                message="Two rides that morning",
                created_at=at(date(2026, 3, 8)),
            )
        )
        session.add(
            Pin(
                activity_id=activity.id,
                field="name",
                value="Rates loop",
                pinned_at=at(date(2026, 3, 9)),
            )
        )
        activity_id = activity.id
    with db.session() as session:
        detail = activity_detail(session, activity_id, Settings(units=UnitSystem.IMPERIAL))
        assert activity_detail(session, 999_999, Settings()) is None
    assert detail is not None
    assert [r.provider for r in detail.records] == [RWGPS, GARMIN, STRAVA]  # priority order
    assert detail.records[2].url == "https://www.strava.com/activities/12400000013"
    assert not detail.records[2].is_source
    assert detail.name == "Rates loop"
    rows = {row.field: row for row in detail.rows}
    assert rows[DetailField.NAME].pinned and rows[DetailField.NAME].canonical == "Rates loop"
    assert rows[DetailField.NAME].differs == (True, True, True)
    assert rows[DetailField.DISTANCE].canonical == "18.64 mi"
    assert rows[DetailField.DISTANCE].values[2] == "18.70 mi"
    garmin = detail.records[1]
    assert garmin.link_summary == "Matched automatically (score 0.93): starts 5 s apart (utc)"
    assert ("linked with", "RideWithGPS 310000011") in garmin.link_details
    assert ("shared evidence", "sha256:" + "ab" * 8 + "a…") in garmin.link_details
    assert detail.review == ("Two rides that morning",)
    assert detail.track_provider is GARMIN and len(detail.track) == 3


def test_describe_link_origins() -> None:
    assert describe_link("user", None, None)[0] == "Linked by you"
    assert describe_link("import", None, None)[0] == "Imported on its own (nothing matched it)"
    summary, details = describe_link(
        "matcher", 1.0, {"penalties": [["time", 0.02], ["distance", 0.0]]}
    )
    assert summary == "Matched automatically (score 1.00)"
    assert details == (("penalties", "time 0.02, distance 0.00"),)
    files = {"with": {"provider": "file:862f32ff", "id": "862f32ff4efea39af6b9e111cfbaacbc"}}
    assert describe_link("matcher", 1.0, files)[1] == (("linked with", "Files 862f32ff4efea39a…"),)


def test_provider_urls() -> None:
    assert provider_url(GARMIN, "1") == "https://connect.garmin.com/modern/activity/1"
    assert provider_url(RWGPS, "2") == "https://ridewithgps.com/trips/2"
    assert provider_url(ProviderName.INTERVALSICU, "i3") == "https://intervals.icu/activities/i3"
    assert provider_url(FILE, "abc") is None


def test_provider_rows_and_their_wording(db: Database) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with db.session() as session:
        add_activity(session, record(GARMIN, "g1"))
        session.add(
            ProviderStatus(
                provider=STRAVA,
                state=ProviderState.RATE_LIMITED,
                rate_limited_until=now + timedelta(minutes=30),
            )
        )
    with db.session() as session:
        rows = {r.provider: r for r in provider_overview(session)}
    assert list(rows) == list(ProviderName)
    assert rows[GARMIN].records == 1 and not rows[GARMIN].connected
    assert rows[GARMIN].describe(now) == "Not connected"
    assert rows[STRAVA].describe(now).startswith("Rate-limited until ")
    assert rows[FILE].describe(now) == "Drop files to import"
    connected = ProviderRow(
        GARMIN, 3, ProviderState.OK, now - timedelta(days=2), None, None, None, True, True
    )
    assert connected.connected and connected.describe(now).startswith("Last sync ")
    error = ProviderRow(GARMIN, 3, ProviderState.ERROR, None, None, None, "Garmin: 500", True, True)
    assert error.describe(now) == "Error: Garmin: 500"


def test_link_candidates_and_newest_activity(db: Database) -> None:
    ids = seed_year(db)
    with db.session() as session:
        near = link_candidates(session, ids["run"])
        newest = newest_activity(session, [ids["jan"], ids["run"], ids["feb"], 123_456])
    assert {c.activity_id for c in near} == {ids["feb"]}  # 3 Feb, within a day of 4 Feb
    assert newest == (ids["run"], date(2026, 2, 4))
