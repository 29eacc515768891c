"""Keeping the store's links in step with the matcher and the user's decisions.

The matcher is pure: it groups candidates. This module turns stored records into candidates,
runs it over a window of the history, and reconciles the result with the activities in the
store — reusing an activity for the group that holds most of its records, so ids the user has
seen stay stable — and stores why each record was linked and what needs a human.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from tracekit.matching import Candidate, Decision, Link, MatchResult, match_explained
from tracekit.providers.names import ProviderName
from tracekit.store.canonical import ActivityRefresher
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    LinkOrigin,
    MatchDecision,
    MatchDecisionKind,
    ProviderRecord,
    ReviewFlag,
    ReviewKind,
)

# Records this far outside the window are matched too, so a session near the window's edge
# (a ride across midnight, a provider with a shifted clock) meets all its partners.
MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class RematchReport:
    records: int
    activities_created: int
    activities_removed: int
    review_items: int


def rematch(db: Database, start: date | None = None, end: date | None = None) -> RematchReport:
    """Match the records of [start, end] (local dates; None = the whole history) and store it."""
    with db.session() as session:
        return rematch_in(session, start, end)


def rematch_around(db: Database, instants: Iterable[datetime]) -> RematchReport | None:
    """Rematch the span of days that these (new or changed) records touch."""
    days = sorted({moment.date() for moment in instants})
    if not days:
        return None
    return rematch(db, days[0], days[-1])


def rematch_in(session: Session, start: date | None, end: date | None) -> RematchReport:
    records = _records_in_window(session, start, end)
    by_key = {_key(r): r for r in records}
    candidates = [_candidate(r) for r in records]
    result = match_explained(candidates, _decisions(session, records))
    now = datetime.now(UTC)
    created, removed = _reconcile(session, result, by_key, now)
    flags = _store_review(session, result, by_key, now)
    return RematchReport(len(records), created, removed, flags)


def _records_in_window(
    session: Session, start: date | None, end: date | None
) -> list[ProviderRecord]:
    query = select(ProviderRecord)
    if start is not None and end is not None:
        low = datetime.combine(start, time(), UTC) - MARGIN
        high = datetime.combine(end, time(), UTC) + timedelta(days=1) + MARGIN
        naive_low, naive_high = low.replace(tzinfo=None), high.replace(tzinfo=None)
        query = query.where(
            or_(
                ProviderRecord.start_utc.between(low, high),
                and_(
                    ProviderRecord.start_utc.is_(None),
                    ProviderRecord.start_local.between(naive_low, naive_high),
                ),
            )
        )
    records = list(session.scalars(query))
    # Whole activities only: a session's records outside the window come along, so matching a
    # slice never splits what an earlier run (or the user) put together.
    activity_ids = {r.activity_id for r in records if r.activity_id is not None}
    seen = {r.id for r in records}
    if activity_ids:
        records += [
            r
            for r in session.scalars(
                select(ProviderRecord).where(ProviderRecord.activity_id.in_(activity_ids))
            )
            if r.id not in seen
        ]
    return records


def _source(record: ProviderRecord) -> str:
    """Who saw the record, as the matcher's one-record-per-source rule needs it.

    Each imported file is its own source: a watch's FIT and a phone's GPX of one ride are two
    witnesses of the session, not two sessions of one provider.
    """
    if record.provider is ProviderName.FILE and record.checksum:
        return f"file:{record.checksum[:16]}"
    return record.provider.value


def _key(record: ProviderRecord) -> tuple[str, str]:
    return (_source(record), record.provider_id)


def evidence_of(record: ProviderRecord) -> frozenset[str]:
    keys = set(record.evidence or ())
    if record.checksum:
        keys.add(f"sha256:{record.checksum}")
    return frozenset(keys)


def _candidate(record: ProviderRecord) -> Candidate:
    return Candidate(
        provider=_source(record),
        id=record.provider_id,
        start_utc=record.start_utc,
        start_local=record.start_local,
        date_only=bool(record.date_only),
        elapsed_s=record.elapsed_s,
        distance_m=record.distance_m,
        sport=record.sport.value,
        name=record.name,
        evidence=evidence_of(record),
    )


def _decisions(session: Session, records: Sequence[ProviderRecord]) -> list[Decision]:
    keys = {r.id: _key(r) for r in records}
    rows = session.scalars(
        select(MatchDecision)
        .where(MatchDecision.record_id.in_(keys))
        .order_by(MatchDecision.decided_at, MatchDecision.id)
    )
    decisions = []
    for row in rows:
        a = keys[row.record_id]
        if row.kind is MatchDecisionKind.ALONE:
            decisions.append(Decision("alone", a))
        elif row.other_record_id in keys:
            b = keys[row.other_record_id]
            if row.kind is MatchDecisionKind.LINK:
                decisions.append(Decision("link", a, b))
            else:
                decisions.append(Decision("never", a, b))
    return decisions


def _reconcile(
    session: Session,
    result: MatchResult,
    by_key: dict[tuple[str, str], ProviderRecord],
    now: datetime,
) -> tuple[int, int]:
    claimed: set[int] = set()
    touched: dict[int, Activity] = {}
    created = 0
    before = {r.activity_id for r in by_key.values() if r.activity_id is not None}
    for group in sorted(result.matched, key=lambda g: -len(g.members)):
        members = [by_key[c.key] for c in group.members]
        current = Counter(r.activity_id for r in members if r.activity_id is not None)
        target_id = next((a for a, _ in current.most_common() if a not in claimed), None)
        target = session.get(Activity, target_id) if target_id is not None else None
        if target is None:
            target = Activity(created_at=now, updated_at=now, local_date=date.min)
            session.add(target)
            created += 1
        best = _best_links(group.links)
        for record in members:
            record.activity = target
            _describe_link(record, best.get(_key(record)), len(members))
        session.flush()
        claimed.add(target.id)
        touched[target.id] = target
    refresher = ActivityRefresher(session)
    for activity in touched.values():
        refresher.refresh(activity, now)
    emptied = before - claimed
    if emptied:
        session.execute(delete(Activity).where(Activity.id.in_(emptied)))
    return created, len(emptied)


def _best_links(links: Iterable[Link]) -> dict[tuple[str, str], Link]:
    best: dict[tuple[str, str], Link] = {}
    for link in links:
        for end in (link.a.key, link.b.key):
            if end not in best or link.score > best[end].score:
                best[end] = link
    return best


def _describe_link(record: ProviderRecord, link: Link | None, group_size: int) -> None:
    if link is None:
        alone_by_choice = record.link_origin is LinkOrigin.USER and group_size == 1
        record.link_origin = LinkOrigin.USER if alone_by_choice else LinkOrigin.IMPORT
        record.link_score = None
        record.link_explanation = None
        return
    other = link.b if link.a.key == _key(record) else link.a
    record.link_origin = LinkOrigin.USER if link.reason == "decision" else LinkOrigin.MATCHER
    record.link_score = link.score
    record.link_explanation = {
        "summary": str(link.explanation),
        "reason": link.reason,
        "with": {"provider": other.provider, "id": other.id},
        **{k: v for k, v in asdict(link.explanation).items() if v is not None},
    }


def _store_review(
    session: Session,
    result: MatchResult,
    by_key: dict[tuple[str, str], ProviderRecord],
    now: datetime,
) -> int:
    ids = {r.id for r in by_key.values()}
    for flag in session.scalars(select(ReviewFlag)):
        if set(flag.record_ids) <= ids:  # this run decides again for these records
            session.delete(flag)
    for record in by_key.values():
        if record.activity is not None:
            record.activity.needs_review = False
    for item in result.review:
        records = [by_key[c.key] for c in item.candidates]
        session.add(
            ReviewFlag(
                kind=ReviewKind(item.kind),
                record_ids=sorted(r.id for r in records),
                message=item.reason,
                created_at=now,
            )
        )
        for record in records:
            if record.activity is not None:
                record.activity.needs_review = True
    return len(result.review)


def decide(
    db: Database,
    kind: MatchDecisionKind,
    record_ids: Sequence[int],
) -> RematchReport:
    """Store the user's decision (link these, never match these, this one alone), then rematch
    the affected days so it takes effect at once."""
    now = datetime.now(UTC)
    with db.session() as session:
        records = [session.get(ProviderRecord, rid) for rid in record_ids]
        if any(r is None for r in records):
            missing = [rid for rid, r in zip(record_ids, records, strict=True) if r is None]
            raise ValueError(f"no such record: {', '.join(map(str, missing))}")
        found = [r for r in records if r is not None]
        ids = [r.id for r in found]
        # A new decision about these records replaces the old ones (the latest word wins).
        session.execute(
            delete(MatchDecision).where(
                MatchDecision.record_id.in_(ids),
                or_(
                    MatchDecision.other_record_id.in_(ids), MatchDecision.other_record_id.is_(None)
                ),
            )
        )
        if kind is MatchDecisionKind.ALONE:
            session.add_all(MatchDecision(kind=kind, record_id=r.id, decided_at=now) for r in found)
        else:
            if len(found) < 2:
                raise ValueError("linking needs at least two records")
            first = found[0]
            for other in found[1:]:
                session.add(
                    MatchDecision(
                        kind=kind, record_id=first.id, other_record_id=other.id, decided_at=now
                    )
                )
        for record in found:
            if kind is not MatchDecisionKind.NEVER:
                record.link_origin = LinkOrigin.USER
        instants = [_day_anchor(r) for r in found]
    return rematch_around(db, instants) or RematchReport(0, 0, 0, 0)


def _day_anchor(record: ProviderRecord) -> datetime:
    if record.start_utc is not None:
        return record.start_utc
    assert record.start_local is not None
    return record.start_local.replace(tzinfo=UTC)


def resolve_records(db: Database, refs: Sequence[str]) -> list[int]:
    """Record ids from what a user types: a record id ("42") or "provider:id" ("strava:123")."""
    ids: list[int] = []
    with db.session() as session:
        for ref in refs:
            provider, sep, provider_id = ref.partition(":")
            if not sep and ref.isdigit():
                found = session.get(ProviderRecord, int(ref))
            else:
                try:
                    name = ProviderName(provider)
                except ValueError:
                    raise ValueError(f"unknown provider in {ref!r}") from None
                found = session.scalars(
                    select(ProviderRecord).where(
                        ProviderRecord.provider == name, ProviderRecord.provider_id == provider_id
                    )
                ).one_or_none()
            if found is None:
                raise ValueError(f"no such record: {ref}")
            ids.append(found.id)
    return ids


def rematch_records(db: Database, record_ids: Sequence[int]) -> RematchReport | None:
    """Rematch the days around new or changed records (the hook a sync calls)."""
    if not record_ids:
        return None
    with db.session() as session:
        records = session.scalars(select(ProviderRecord).where(ProviderRecord.id.in_(record_ids)))
        instants = [_day_anchor(r) for r in records if r.start_utc or r.start_local]
    return rematch_around(db, instants)
