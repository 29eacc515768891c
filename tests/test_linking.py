"""The store follows the matcher, and the user's decisions win and last."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tracekit.linking import decide, rematch
from tracekit.providers.names import ProviderName
from tracekit.sports import Sport
from tracekit.store.canonical import refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    LinkOrigin,
    MatchDecisionKind,
    ProviderRecord,
    ReviewFlag,
)

START = datetime(2026, 5, 12, 6, 5, tzinfo=UTC)


def _add(db: Database, provider: ProviderName, pid: str, start: datetime, **values: object) -> int:
    now = datetime.now(UTC)
    with db.session() as session:
        record = ProviderRecord(
            provider=provider,
            provider_id=pid,
            start_utc=start,
            start_local=values.pop("start_local", start.replace(tzinfo=None) + timedelta(hours=2)),
            timezone="Europe/Madrid",
            sport=values.pop("sport", Sport.RIDE),
            elapsed_s=values.pop("elapsed_s", 1850.0),
            distance_m=values.pop("distance_m", 12_400.0),
            fetched_at=now,
            changed_at=now,
            **values,
        )
        activity = Activity(created_at=now)
        record.activity = activity
        refresh_activity(activity, [record], now)
        session.add_all([activity, record])
        session.flush()
        return record.id


def _groups(db: Database) -> list[set[str]]:
    with db.session() as session:
        groups: dict[int, set[str]] = {}
        for record in session.scalars(select(ProviderRecord)):
            assert record.activity_id is not None
            groups.setdefault(record.activity_id, set()).add(record.provider_id)
        return sorted(groups.values(), key=sorted)


def _commutes(db: Database) -> dict[str, int]:
    evening = START + timedelta(hours=9, minutes=35)
    return {
        "g-am": _add(db, ProviderName.GARMIN, "g-am", START),
        "s-am": _add(
            db, ProviderName.STRAVA, "s-am", START + timedelta(seconds=4), distance_m=12_290
        ),
        "r-am": _add(
            db, ProviderName.RIDEWITHGPS, "r-am", START + timedelta(seconds=95), elapsed_s=1760
        ),
        "g-pm": _add(db, ProviderName.GARMIN, "g-pm", evening, elapsed_s=1790, distance_m=12_510),
        "s-pm": _add(db, ProviderName.STRAVA, "s-pm", evening + timedelta(seconds=3)),
    }


def test_two_commutes_on_one_day_become_two_sessions_with_explanations(db: Database) -> None:
    _commutes(db)
    report = rematch(db)
    assert _groups(db) == [{"g-am", "r-am", "s-am"}, {"g-pm", "s-pm"}]
    assert report.activities_removed == 3
    with db.session() as session:
        late = session.scalars(select(ProviderRecord).where(ProviderRecord.provider_id == "r-am"))
        record = late.one()
        assert record.link_origin is LinkOrigin.MATCHER
        assert record.link_score is not None and 0.5 < record.link_score <= 1
        assert record.link_explanation is not None
        assert "apart" in record.link_explanation["summary"]
        assert session.scalar(select(func.count()).select_from(Activity)) == 2


def test_rematching_keeps_activity_ids_stable(db: Database) -> None:
    _commutes(db)
    rematch(db)
    with db.session() as session:
        before = sorted(session.scalars(select(Activity.id)))
    rematch(db)
    rematch(db, START.date(), START.date())
    with db.session() as session:
        assert sorted(session.scalars(select(Activity.id))) == before


def test_unlink_never_and_link_decisions_win_and_survive_rematching(db: Database) -> None:
    ids = _commutes(db)
    rematch(db)
    decide(db, MatchDecisionKind.ALONE, [ids["r-am"]])
    assert {"r-am"} in _groups(db)
    decide(db, MatchDecisionKind.NEVER, [ids["g-pm"], ids["s-pm"]])
    assert {"g-pm"} in _groups(db) and {"s-pm"} in _groups(db)
    rematch(db)  # a later sync re-runs the matcher: the decisions still hold
    assert {"r-am"} in _groups(db) and {"g-pm"} in _groups(db)
    decide(db, MatchDecisionKind.LINK, [ids["r-am"], ids["g-am"]])
    rematch(db)
    assert {"g-am", "r-am", "s-am"} in _groups(db)
    with db.session() as session:
        record = session.get(ProviderRecord, ids["r-am"])
        assert record is not None and record.link_origin is LinkOrigin.USER


def test_a_whole_hour_offset_is_flagged_for_review_and_never_merged(db: Database) -> None:
    # Same wall clock, instants an hour apart: one provider put the session in the wrong zone.
    _add(db, ProviderName.GARMIN, "g1", START)
    wrong = START + timedelta(hours=1)
    _add(db, ProviderName.INTERVALSICU, "i1", wrong, start_local=datetime(2026, 5, 12, 8, 5))
    report = rematch(db)
    assert _groups(db) == [{"g1"}, {"i1"}]
    assert report.review_items == 1
    with db.session() as session:
        flag = session.scalars(select(ReviewFlag)).one()
        assert flag.kind.value == "timezone_conflict"
        assert all(a.needs_review for a in session.scalars(select(Activity)))
    decide(db, MatchDecisionKind.LINK, [1, 2])
    assert _groups(db) == [{"g1", "i1"}]
    with db.session() as session:
        assert session.scalars(select(ReviewFlag)).all() == []


def test_sessions_without_distance_still_match(db: Database) -> None:
    _add(db, ProviderName.GARMIN, "g", START, sport=Sport.STRENGTH, distance_m=None)
    _add(
        db,
        ProviderName.STRAVA,
        "s",
        START + timedelta(seconds=2),
        sport=Sport.WORKOUT,
        distance_m=None,
    )
    rematch(db)
    assert _groups(db) == [{"g", "s"}]
