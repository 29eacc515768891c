"""Pulling a provider's activities and gear into the store, for any `Provider`.

* Each `RemoteActivity` becomes (or updates) the `ProviderRecord` with the same
  (provider, provider_id). A new record gets its own `Activity`, exactly as a file import does;
  a changed one gets its fields and `changed_at` updated and its activity's cached values
  refreshed. Records are committed in small batches, each together with the sync state that says
  what is now covered, so a crash or a rate-limit stop loses at most one batch and the next run
  continues where this one stopped (no duplicates: upserts; no gaps: see `_Coverage`).
* `SyncState` keeps the pulled range (`pulled_from`/`pulled_to`), `last_sync_at`, and in
  `cursor`: the spans pulled with when each was pulled, the unfinished part of an interrupted run
  (`pending`), whether the whole history has been pulled, and when gear was last read.
* A default sync pulls the whole history the first time, afterwards only from the end of what is
  covered minus `OVERLAP` (late uploads) to now: with nothing new that is one request. A range or
  month that was pulled within `FRESH_FOR` is not asked for again unless forced.
* `ProviderStatus` is updated on every run; a `Notification` is written when a provider starts
  needing attention (rate limited, reconnect, error) and when it recovers.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracekit.providers.base import (
    Provider,
    ProviderError,
    RateLimited,
    ReconnectNeeded,
    RemoteActivity,
    RemoteGear,
)
from tracekit.providers.names import ProviderName
from tracekit.ratelimit import Clock, Metered, utc_now
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
from tracekit.store.records import clip, remote_values, update_from_remote
from tracekit.timezones import as_utc

log = logging.getLogger(__name__)

OVERLAP = timedelta(days=7)  # re-read this much before the covered end: late uploads land there
FRESH_FOR = timedelta(hours=6)  # a range pulled this recently is not pulled again unless forced
GEAR_FRESH_FOR = timedelta(hours=24)  # older, it is read again when activities changed
BATCH_SIZE = 100
# Providers list by local start time; local clocks differ from UTC by −12 h … +14 h, so an order
# by local time can be this far out of UTC order. Coverage claims keep this much margin.
ORDER_SLACK = timedelta(hours=27)
COMPACT_AFTER = timedelta(days=1)  # older neighbouring spans merge (their exact age is moot)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEG_INF = datetime.min.replace(tzinfo=UTC)

SyncProgress = Callable[[int, str], None]
CancelCheck = Callable[[], bool]
RecordsChanged = Callable[[list[int]], object]


class StopReason(StrEnum):
    FRESH = "fresh"  # nothing asked: the range was pulled recently
    RATE_LIMITED = "rate_limited"
    RECONNECT_NEEDED = "reconnect_needed"
    ERROR = "error"
    CANCELLED = "cancelled"


@dataclass
class SyncReport:
    provider: ProviderName
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    requests: int | None = None  # HTTP requests made, for providers that count them
    stopped: StopReason | None = None
    message: str | None = None
    rate_limited_until: datetime | None = None
    ranges: list[tuple[datetime | None, datetime]] = field(default_factory=list)
    gear: int | None = None  # pieces of gear read, when gear was read

    @property
    def failed(self) -> bool:
        """The run did not finish what it set out to do (rate limit, reconnect, error)."""
        return self.stopped in (
            StopReason.RATE_LIMITED,
            StopReason.RECONNECT_NEEDED,
            StopReason.ERROR,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider.value,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "stopped": self.stopped.value if self.stopped else None,
            "message": self.message,
            "rate_limited_until": (
                self.rate_limited_until.isoformat() if self.rate_limited_until else None
            ),
            "ranges": [[a.isoformat() if a else None, b.isoformat()] for a, b in self.ranges],
            "gear": self.gear,
        }


# -- what has been pulled, and when -----------------------------------------------------------

type Span = tuple[datetime, datetime, datetime]  # [start, end) pulled at; start _NEG_INF = ever
type Range = tuple[datetime | None, datetime]


def _key(moment: datetime | None) -> datetime:
    return _NEG_INF if moment is None else moment


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None or moment == _NEG_INF else moment.isoformat()


def _from_iso(value: Any) -> datetime | None:
    return as_utc(datetime.fromisoformat(value)) if isinstance(value, str) and value else None


def _union(spans: Iterable[Span]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end, _ in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def add_span(spans: list[Span], start: datetime | None, end: datetime, at: datetime) -> list[Span]:
    """`spans` with [start, end) now pulled at `at` (replacing what it overlaps), compacted."""
    lo = _key(start)
    if end <= lo:
        return spans
    kept: list[Span] = []
    for s, e, when in spans:
        if e <= lo or s >= end:
            kept.append((s, e, when))
            continue
        if s < lo:
            kept.append((s, lo, when))
        if e > end:
            kept.append((end, e, when))
    kept.append((lo, end, at))
    kept.sort()
    compacted: list[Span] = []
    old = at - COMPACT_AFTER
    for span in kept:
        if compacted:
            s, e, when = compacted[-1]
            touching = e == span[0]
            same_run = abs(when - span[2]) <= timedelta(minutes=1)
            both_old = when < old and span[2] < old
            if touching and (same_run or both_old):
                compacted[-1] = (s, span[1], min(when, span[2]))
                continue
        compacted.append(span)
    return compacted


def covered_since(
    spans: list[Span], start: datetime | None, end: datetime, since: datetime
) -> bool:
    """Whether all of [start, end) was pulled at or after `since`."""
    lo = _key(start)
    if end <= lo:
        return True
    return any(s <= lo and e >= end for s, e in _union(sp for sp in spans if sp[2] >= since))


def covered_end(spans: list[Span], start: datetime | None) -> datetime | None:
    """The end of the unbroken covered stretch that contains `start` (None: not covered)."""
    point = _key(start)
    for s, e in _union(spans):
        if s <= point < e or (start is None and s == _NEG_INF):
            return e
    return None


@dataclass
class Cursor:
    """The JSON kept in `SyncState.cursor`."""

    spans: list[Span] = field(default_factory=list)
    pending: Range | None = None  # what an interrupted default sync still has to pull
    history_complete: bool = False
    gear_fetched_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Cursor":
        if not data:
            return cls()
        spans: list[Span] = []
        for item in data.get("spans", []):
            end, at = _from_iso(item[1]), _from_iso(item[2])
            if end is not None and at is not None:
                spans.append((_key(_from_iso(item[0])), end, at))
        pending_raw = data.get("pending")
        pending: Range | None = None
        if pending_raw:
            pending_end = _from_iso(pending_raw[1])
            if pending_end is not None:
                pending = (_from_iso(pending_raw[0]), pending_end)
        return cls(
            spans=sorted(spans),
            pending=pending,
            history_complete=bool(data.get("history_complete")),
            gear_fetched_at=_from_iso(data.get("gear_fetched_at")),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "spans": [[_iso(s), _iso(e), _iso(at)] for s, e, at in self.spans],
            "pending": ([_iso(self.pending[0]), _iso(self.pending[1])] if self.pending else None),
            "history_complete": self.history_complete,
            "gear_fetched_at": _iso(self.gear_fetched_at),
        }


class _Coverage:
    """Which part of [since, until) is known complete while a pull is under way.

    Providers yield newest first or oldest first, ordered by a clock that may be local time
    (within `ORDER_SLACK` of UTC order). Once the stream has clearly moved one way (more than
    twice `ORDER_SLACK` from its first start) and never contradicted that order, everything more
    than `ORDER_SLACK` behind the latest start is complete; the rest is what a later run must
    pull again. A stream in no such order never claims anything before it ends.
    """

    def __init__(self, since: datetime | None, until: datetime) -> None:
        self.since = since
        self.until = until
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.low: datetime | None = None
        self.high: datetime | None = None
        self.newest_first = True
        self.oldest_first = True

    def see(self, start: datetime | None) -> None:
        if start is None:
            return
        if self.low is not None and start > self.low + ORDER_SLACK:
            self.newest_first = False
        if self.high is not None and start < self.high - ORDER_SLACK:
            self.oldest_first = False
        if self.first is None:
            self.first = start
        self.last = start
        self.low = start if self.low is None else min(self.low, start)
        self.high = start if self.high is None else max(self.high, start)

    def split(self) -> tuple[Range | None, Range]:
        """(covered, remaining) so far."""
        whole: Range = (self.since, self.until)
        if self.first is None or self.last is None:
            return None, whole
        if self.newest_first and self.last < self.first - 2 * ORDER_SLACK:
            boundary = min(self.last + ORDER_SLACK, self.until)
            covered = (boundary, self.until) if boundary < self.until else None
            return covered, (self.since, boundary)
        if self.oldest_first and self.last > self.first + 2 * ORDER_SLACK:
            boundary = self.last - ORDER_SLACK
            if self.since is not None and boundary <= self.since:
                return None, whole
            return (self.since, boundary), (boundary, self.until)
        return None, whole


# -- storing ------------------------------------------------------------------------------


@dataclass
class _Stored:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[int] = field(default_factory=list)
    unknown_gear: set[str] = field(default_factory=set)


def _upsert(
    session: Session,
    provider: ProviderName,
    batch: list[RemoteActivity],
    gear_names: dict[str, str],
    now: datetime,
) -> _Stored:
    stored = _Stored()
    ids = {remote.provider_id for remote in batch}
    existing = {
        record.provider_id: record
        for record in session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.provider == provider, ProviderRecord.provider_id.in_(ids)
            )
        )
    }
    touched: list[ProviderRecord] = []
    for remote in batch:
        if remote.start_utc is None and remote.start_local is None:
            log.warning("%s activity %s has no start; skipped", provider.label, remote.provider_id)
            continue
        gear_name = gear_names.get(remote.gear_id) if remote.gear_id else None
        if remote.gear_id and remote.gear_id not in gear_names:
            stored.unknown_gear.add(remote.gear_id)
        record = existing.get(remote.provider_id)
        if record is None:
            record = ProviderRecord(
                provider=provider,
                provider_id=remote.provider_id,
                fetched_at=now,
                changed_at=now,
                **remote_values(remote, gear_name),
            )
            activity = Activity(created_at=now)
            record.activity = activity
            refresh_activity(activity, [record], now)
            session.add_all([activity, record])
            existing[remote.provider_id] = record
            stored.new += 1
            touched.append(record)
            continue
        if not update_from_remote(record, remote, gear_name, now):
            stored.unchanged += 1
            continue
        if record.activity is not None:
            refresh_activity(record.activity, record.activity.records, now)
        stored.updated += 1
        touched.append(record)
    session.flush()
    stored.changed_ids = [record.id for record in touched]
    return stored


def _store_gear(session: Session, provider: ProviderName, gear: list[RemoteGear]) -> dict[str, str]:
    rows = {
        row.provider_gear_id: row
        for row in session.scalars(select(ProviderGear).where(ProviderGear.provider == provider))
    }
    seen: set[str] = set()
    for item in gear:
        seen.add(item.provider_gear_id)
        row = rows.get(item.provider_gear_id)
        if row is None:
            row = ProviderGear(provider=provider, provider_gear_id=item.provider_gear_id)
            session.add(row)
            rows[item.provider_gear_id] = row
        renamed = row.name is not None and row.name != item.name
        row.name = item.name[:255]
        row.kind = clip(item.kind, 32)
        row.retired = item.retired
        if renamed:
            session.execute(
                update(ProviderRecord)
                .where(
                    ProviderRecord.provider == provider,
                    ProviderRecord.gear_id == item.provider_gear_id,
                )
                .values(gear_name=row.name)
            )
    for gear_id, row in rows.items():
        if gear_id not in seen:
            row.retired = True  # gone from the provider's list; records may still name it
    return {gear_id: row.name for gear_id, row in rows.items()}


def _gear_names(session: Session, provider: ProviderName) -> dict[str, str]:
    rows = session.scalars(select(ProviderGear).where(ProviderGear.provider == provider))
    return {row.provider_gear_id: row.name for row in rows}


# -- status and notifications -------------------------------------------------------------

_TROUBLE = {ProviderState.RATE_LIMITED, ProviderState.RECONNECT_NEEDED, ProviderState.ERROR}


def _status(session: Session, provider: ProviderName) -> ProviderStatus:
    status = session.get(ProviderStatus, provider)
    if status is None:
        status = ProviderStatus(provider=provider, state=ProviderState.OK)
        session.add(status)
    return status


def _notify(
    session: Session, provider: ProviderName, level: NotificationLevel, message: str, now: datetime
) -> None:
    session.add(
        Notification(created_at=now, level=level, message=message, provider=provider, read=False)
    )


def _requests(provider: Provider) -> int | None:
    return provider.requests_made if isinstance(provider, Metered) else None


# -- the run ------------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        db: Database,
        provider: Provider,
        clock: Clock,
        progress: SyncProgress | None,
        cancelled: CancelCheck | None,
        on_records_changed: RecordsChanged | None,
        batch_size: int,
    ) -> None:
        self.db = db
        self.provider = provider
        self.name = provider.name
        self.clock = clock
        self.progress = progress
        self.cancelled = cancelled
        self.on_records_changed = on_records_changed
        self.batch_size = batch_size
        self.report = SyncReport(provider=provider.name)
        self.gear_names: dict[str, str] = {}
        self.gear_read = False
        self.unknown_gear: set[str] = set()
        self.was_cancelled = False

    def _is_cancelled(self) -> bool:
        if self.cancelled is not None and self.cancelled():
            self.was_cancelled = True
        return self.was_cancelled

    def read_gear(self) -> None:
        gear = self.provider.gear()
        now = self.clock()
        with self.db.session() as session:
            self.gear_names = _store_gear(session, self.name, gear)
            state = _sync_state(session, self.name)
            cursor = Cursor.from_json(state.cursor)
            cursor.gear_fetched_at = now
            state.cursor = cursor.as_json()
        self.gear_read = True
        self.report.gear = len(gear)

    def refresh_gear(self, stale: bool) -> None:
        """Read the gear list once more when it can matter: activities named gear we do not
        know, or activities changed while the list is old. A sync with nothing new never
        spends a request on gear."""
        unknown = self.unknown_gear - set(self.gear_names)
        if self.gear_read and not unknown:  # read at the start; ask again only for new ids
            return
        changed = self.report.new + self.report.updated > 0
        if not unknown and not (changed and stale):
            return
        self.read_gear()
        with self.db.session() as session:
            for gear_id in unknown & set(self.gear_names):
                session.execute(
                    update(ProviderRecord)
                    .where(ProviderRecord.provider == self.name, ProviderRecord.gear_id == gear_id)
                    .values(gear_name=self.gear_names[gear_id])
                )

    def pull(self, since: datetime | None, until: datetime, *, resumable: bool) -> None:
        """Pull one range, committing per batch; raises the provider's error after saving."""
        self.report.ranges.append((since, until))
        coverage = _Coverage(since, until)
        batch: list[RemoteActivity] = []
        iterator: Iterator[RemoteActivity] = iter(self.provider.pull(since, until))
        try:
            for remote in iterator:
                coverage.see(remote.start_utc)
                batch.append(remote)
                if len(batch) >= self.batch_size:
                    self._commit(batch, coverage, resumable=resumable, done=False)
                    batch = []
                if self._is_cancelled():
                    break
        except ProviderError:
            self._commit(batch, coverage, resumable=resumable, done=False)
            raise
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()
        self._commit(batch, coverage, resumable=resumable, done=not self.was_cancelled)

    def _commit(
        self, batch: list[RemoteActivity], coverage: _Coverage, *, resumable: bool, done: bool
    ) -> None:
        now = self.clock()
        with self.db.session() as session:
            stored = _upsert(session, self.name, batch, self.gear_names, now)
            state = _sync_state(session, self.name)
            cursor = Cursor.from_json(state.cursor)
            if done:
                covered: Range | None = (coverage.since, coverage.until)
                remaining: Range | None = None
            else:
                covered, remaining = coverage.split()
            if covered is not None:
                end = min(covered[1], now)
                cursor.spans = add_span(cursor.spans, covered[0], end, now)
            if resumable:
                cursor.pending = remaining
            if done and coverage.since is None:
                cursor.history_complete = True
            state.cursor = cursor.as_json()
            if cursor.spans:
                first = cursor.spans[0][0]
                state.pulled_from = EPOCH if first == _NEG_INF else first
                state.pulled_to = max(e for _, e, _ in cursor.spans)
            if covered is not None or batch:
                state.last_sync_at = now
        self.report.new += stored.new
        self.report.updated += stored.updated
        self.report.unchanged += stored.unchanged
        self.unknown_gear |= stored.unknown_gear
        if stored.changed_ids and self.on_records_changed is not None:
            self.on_records_changed(stored.changed_ids)
        if self.progress is not None and batch:
            done_count = self.report.new + self.report.updated + self.report.unchanged
            self.progress(done_count, f"{self.name.label}: {done_count} activities")


def _sync_state(session: Session, provider: ProviderName) -> SyncState:
    state = session.get(SyncState, provider)
    if state is None:
        state = SyncState(provider=provider)
        session.add(state)
    return state


def _default_plan(cursor: Cursor, now: datetime, force: bool) -> list[Range]:
    if force or (not cursor.history_complete and cursor.pending is None):
        return [(None, now)]
    plan: list[Range] = []
    if cursor.pending is not None:
        p_since, p_until = cursor.pending
        plan.append((p_since, p_until))
        assumed = add_span(list(cursor.spans), p_since, p_until, now)
        end = covered_end(assumed, p_since)
        start = max(p_until, end - OVERLAP) if end is not None else p_until
        plan.append((start, now))
    else:
        end = covered_end(cursor.spans, None)
        plan.append(((end - OVERLAP) if end is not None else None, now))
    merged: list[Range] = []
    for since, until in plan:
        if since is not None and since >= until:
            continue
        if merged and since is not None and since <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], until))
        else:
            merged.append((since, until))
    return merged


def sync_provider(
    db: Database,
    provider: Provider,
    since: datetime | None = None,
    until: datetime | None = None,
    force: bool = False,
    progress: SyncProgress | None = None,
    cancelled: CancelCheck | None = None,
    *,
    on_records_changed: RecordsChanged | None = None,
    fresh_for: timedelta = FRESH_FOR,
    clock: Clock = utc_now,
    batch_size: int = BATCH_SIZE,
) -> SyncReport:
    """Pull `provider` into the store and report what changed.

    Without `since`/`until`: the default sync (full history the first time, resumable; then
    incremental). With them: that UTC range, skipped when it was pulled within `fresh_for`
    unless `force`. `force` also ignores a stored rate-limit wait and, for the default sync,
    pulls the whole history again. `on_records_changed` gets the ids of new and changed records
    after each committed batch.
    """
    name = provider.name
    now = clock()
    force = force or provider.pulls_whole
    explicit = since is not None or until is not None
    since = as_utc(since) if since is not None else None
    until = as_utc(until) if until is not None else now
    report = SyncReport(provider=name)
    with db.session() as session:
        state = session.get(SyncState, name)
        cursor = Cursor.from_json(state.cursor if state is not None else None)
        status = session.get(ProviderStatus, name)
        limited_until = status.rate_limited_until if status is not None else None
        if explicit and not force:
            end = min(until, now)
            if (since is not None and since >= end) or covered_since(
                cursor.spans, since, end, now - fresh_for
            ):
                report.stopped = StopReason.FRESH
                report.requests = 0
                report.message = f"{name.label}: already up to date for this period"
                return report
        if not force and limited_until is not None and limited_until > now:
            report.stopped = StopReason.RATE_LIMITED
            report.rate_limited_until = limited_until
            report.requests = 0
            report.message = (
                f"{name.label}: rate limited until {limited_until:%H:%M} UTC; nothing was asked"
            )
            live = _status(session, name)
            live.last_operation = "sync"
            live.last_operation_at = now
            return report
        previous = status.state if status is not None else None
        live = _status(session, name)
        live.state = ProviderState.SYNCING
        live.last_operation = "sync"
        live.last_operation_at = now
        plan = [(since, until)] if explicit else _default_plan(cursor, now, force)
        read_gear = (force and not explicit) or cursor.gear_fetched_at is None
        gear_stale = cursor.gear_fetched_at is None or cursor.gear_fetched_at < now - GEAR_FRESH_FOR
        gear_names = _gear_names(session, name)

    run = _Run(db, provider, clock, progress, cancelled, on_records_changed, batch_size)
    run.gear_names = gear_names
    report = run.report
    before = _requests(provider)
    try:
        if read_gear:
            run.read_gear()
        for range_since, range_until in plan:
            if run._is_cancelled():
                break
            run.pull(range_since, range_until, resumable=not explicit)
        if not run.was_cancelled:
            run.refresh_gear(gear_stale)
    except RateLimited as error:
        report.stopped = StopReason.RATE_LIMITED
        report.rate_limited_until = error.until
        report.message = str(error)
    except ReconnectNeeded as error:
        report.stopped = StopReason.RECONNECT_NEEDED
        report.message = str(error)
    except ProviderError as error:
        report.stopped = StopReason.ERROR
        report.message = str(error)
    except KeyboardInterrupt:
        report.stopped = StopReason.CANCELLED
        report.message = f"{name.label}: interrupted; the next sync continues from here"
        _finish(db, provider, report, previous, clock())
        raise
    except BaseException as error:
        report.stopped = StopReason.ERROR
        report.message = (
            f"{name.label}: sync stopped by an unexpected error ({type(error).__name__})"
        )
        _finish(db, provider, report, previous, clock())
        raise
    if run.was_cancelled and report.stopped is None:
        report.stopped = StopReason.CANCELLED
        report.message = f"{name.label}: cancelled; the next sync continues from here"
    after = _requests(provider)
    report.requests = after - before if after is not None and before is not None else None
    _finish(db, provider, report, previous, clock())
    return report


def _finish(
    db: Database,
    provider: Provider,
    report: SyncReport,
    previous: ProviderState | None,
    now: datetime,
) -> None:
    name = provider.name
    with db.session() as session:
        status = _status(session, name)
        if isinstance(provider, Metered):
            status.rate_limit = provider.rate_limit_state()
        stopped = report.stopped
        if stopped is None:
            status.state = ProviderState.OK
            status.error = None
            status.rate_limited_until = None
            status.last_success_at = now
            if previous in _TROUBLE:
                _notify(session, name, NotificationLevel.INFO, f"{name.label}: syncing again.", now)
            return
        if stopped is StopReason.CANCELLED:
            status.state = previous if previous in _TROUBLE else ProviderState.OK
            return
        state, level = {
            StopReason.RATE_LIMITED: (ProviderState.RATE_LIMITED, NotificationLevel.WARNING),
            StopReason.RECONNECT_NEEDED: (ProviderState.RECONNECT_NEEDED, NotificationLevel.ERROR),
        }.get(stopped, (ProviderState.ERROR, NotificationLevel.ERROR))
        status.state = state
        status.error = report.message
        status.rate_limited_until = report.rate_limited_until
        if previous != state:
            message = report.message or f"{name.label}: sync failed"
            if state is ProviderState.RATE_LIMITED and report.rate_limited_until is not None:
                message = (
                    f"{message}. The sync continues from where it stopped after "
                    f"{report.rate_limited_until:%Y-%m-%d %H:%M} UTC."
                )
            _notify(session, name, level, message, now)


def month_window(year: int, month: int) -> Range:
    """The UTC range pulled for a calendar month: one day more on each side, so a session near
    the month's edges is caught whatever its time zone (the original app lost those)."""
    first = datetime(year, month, 1, tzinfo=UTC)
    following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return first - timedelta(days=1), following + timedelta(days=1)


def sync_month(
    db: Database,
    provider: Provider,
    year: int,
    month: int,
    force: bool = False,
    **options: Any,
) -> SyncReport:
    """Pull one calendar month (see `month_window`); no request when it was pulled recently."""
    date(year, month, 1)  # validates the month
    since, until = month_window(year, month)
    return sync_provider(db, provider, since=since, until=until, force=force, **options)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    records: int
    activities_removed: int
    gear: int


def forget_provider(db: Database, provider: ProviderName) -> ForgetReport:
    """Delete everything stored from `provider`: records, gear, sync state.

    Activities left without any record go too; activities that keep records from other
    providers have their cached values recomputed from those. (Strava's terms require this on
    disconnect or deauthorisation.) The provider's status row stays, for its state.
    """
    now = datetime.now(UTC)
    with db.session() as session:
        affected = set(
            session.scalars(
                select(ProviderRecord.activity_id).where(
                    ProviderRecord.provider == provider, ProviderRecord.activity_id.is_not(None)
                )
            )
        )
        records = session.scalar(select(func.count()).where(ProviderRecord.provider == provider))
        gear = session.scalar(select(func.count()).where(ProviderGear.provider == provider))
        session.execute(delete(ProviderRecord).where(ProviderRecord.provider == provider))
        session.execute(delete(ProviderGear).where(ProviderGear.provider == provider))
        session.execute(delete(SyncState).where(SyncState.provider == provider))
        session.expire_all()
        removed = 0
        for activity in session.scalars(select(Activity).where(Activity.id.in_(affected))):
            remaining = list(
                session.scalars(
                    select(ProviderRecord).where(ProviderRecord.activity_id == activity.id)
                )
            )
            if remaining:
                refresh_activity(activity, remaining, now)
            else:
                session.delete(activity)
                removed += 1
    return ForgetReport(records=records or 0, activities_removed=removed, gear=gear or 0)
