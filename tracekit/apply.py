"""Applying approved changes: the only code in Tracekit that calls a provider's write methods.

A change id is applied only if it is still proposed now: its activity's proposals are worked
out again from the store, and an id that is no longer among them (a value changed since the
review, or the user dismissed it) is skipped without sending anything. Every operation is
journaled as pending and committed before the provider is called, so a crash mid-write leaves a
trace of what may have been sent; the provider's answer then marks it done or failed, with the
provider's own message. A failure is never reported as applied (the original showed "✓ Applied"
when a write failed). After a write the record is read back, so the store holds what the
provider now has.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from tracekit.authority import authoritative, load_pins, same_text
from tracekit.changes import ChangeKind, Field, ProposedChange, activity_of
from tracekit.files.importer import FileImporter, ImportedItem
from tracekit.gear_index import GearIndex
from tracekit.paths import archive_dir_for
from tracekit.proposals import propose_all, unlink_changes
from tracekit.providers.base import NewEntry, Provider, ProviderError, UploadResult
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.canonical import ActivityRefresher, refresh_activity
from tracekit.store.engine import Database
from tracekit.store.models import (
    Activity,
    JournalEntry,
    JournalState,
    LinkOrigin,
    MatchDecision,
    MatchDecisionKind,
    ProviderRecord,
    ReviewFlag,
)
from tracekit.store.records import update_from_remote

STALE = "no longer proposed: the values changed since the review"
DISMISSED = "dismissed: you asked for it not to be proposed again"
CANCELLED = "skipped: cancelled"

type Progress = Callable[[int, int, str], None]


class OutcomeStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing was sent (stale, cancelled, refused)


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    change_id: str
    status: OutcomeStatus
    message: str
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class Write:
    """One journaled operation: what its journal entry records and what the call needs.

    `old_value`/`new_value` are journaled as they are (gear as {"id", "name"}, so an undo can
    write the old gear id back); `target` is the gear id, file path or record ids to act on.
    """

    change_id: str
    kind: ChangeKind
    activity_id: int | None
    provider: ProviderName
    record_id: int | None
    field: Field | None
    old_value: Any
    new_value: Any
    target: str | None = None
    provider_id: str | None = None  # the record's id at its provider
    name: str | None = None  # the activity name an upload carries
    undoes_id: int | None = None


class ApplyError(Exception):
    """A change that cannot be carried out for a reason on Tracekit's side; shown as is."""


def apply(
    db: Database,
    change_ids: Sequence[str],
    providers: Mapping[ProviderName, Provider],
    settings: Settings,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[ApplyOutcome]:
    """Apply the approved changes in order; one failure never stops the rest.

    `providers` are the connected providers; `cancelled` is asked before each change, and
    once it says yes the remaining changes are skipped.
    """
    outcomes: list[ApplyOutcome] = []
    for position, change in enumerate(change_ids):
        if cancelled is not None and cancelled():
            outcomes += [
                ApplyOutcome(rest, OutcomeStatus.SKIPPED, CANCELLED)
                for rest in change_ids[position:]
            ]
            break
        outcome = _apply_one(db, change, providers, settings)
        outcomes.append(outcome)
        if progress is not None:
            progress(position + 1, len(change_ids), outcome.message)
    return outcomes


def execute(
    db: Database, write: Write, providers: Mapping[ProviderName, Provider], settings: Settings
) -> ApplyOutcome:
    """Journal `write` as pending (committed), carry it out, and journal how it ended."""
    with db.session() as session:
        entry = JournalEntry(
            change_id=write.change_id,
            provider=write.provider,
            record_id=write.record_id,
            kind=write.kind.value,
            field=write.field.value if write.field is not None else None,
            old_value=write.old_value,
            new_value=write.new_value,
            state=JournalState.PENDING,
            created_at=datetime.now(UTC),
            undoes_id=write.undoes_id,
        )
        session.add(entry)
        session.flush()
        journal_id = entry.id
    try:
        message = _perform(db, write, providers, settings)
    except (ProviderError, ApplyError) as error:
        return _finish(db, write, journal_id, JournalState.FAILED, str(error))
    except Exception as error:  # a bug or an I/O error: still journaled, never "applied"
        return _finish(
            db, write, journal_id, JournalState.FAILED, f"{type(error).__name__}: {error}"
        )
    return _finish(db, write, journal_id, JournalState.DONE, message)


def _refresh(session: Session, activity: Activity, now: datetime) -> None:
    session.flush()
    session.refresh(activity, ["records"])
    ActivityRefresher(session).refresh(activity, now)


# --- one change -------------------------------------------------------------------------------


def _apply_one(
    db: Database, change: str, providers: Mapping[ProviderName, Provider], settings: Settings
) -> ApplyOutcome:
    activity_id = activity_of(change)
    if activity_id is None:
        return ApplyOutcome(change, OutcomeStatus.SKIPPED, f"not a change id: {change!r}")
    with db.session() as session:
        capabilities = {name: p.capabilities for name, p in providers.items()}
        current = propose_all(session, [activity_id], settings, capabilities)
        if any(c.id == change for c in current.dismissed):
            return ApplyOutcome(change, OutcomeStatus.SKIPPED, DISMISSED)
        proposed = next(
            (
                c
                for c in (*current.proposed, *unlink_changes(session, activity_id))
                if c.id == change
            ),
            None,
        )
        if proposed is None:
            return ApplyOutcome(change, OutcomeStatus.SKIPPED, STALE)
        record = (
            session.get(ProviderRecord, proposed.record_id)
            if proposed.record_id is not None
            else None
        )
        write = _write_for(proposed, record)
    return execute(db, write, providers, settings)


def _write_for(change: ProposedChange, record: ProviderRecord | None) -> Write:
    old: Any = change.old_value
    new: Any = change.new_value
    if record is not None and change.kind is ChangeKind.RENAME:
        old = record.name
    elif record is not None and change.kind is ChangeKind.SET_DESCRIPTION:
        old = record.description
    elif record is not None and change.kind is ChangeKind.SET_GEAR:
        old = {"id": record.gear_id, "name": change.old_value}
        new = {"id": change.target, "name": change.new_value}
    elif change.kind is ChangeKind.ADD_TO_PROVIDER:
        new = change.target
    return Write(
        change_id=change.id,
        kind=change.kind,
        activity_id=change.activity_id,
        provider=change.provider,
        record_id=change.record_id,
        field=change.field,
        old_value=old,
        new_value=new,
        target=change.target,
        provider_id=record.provider_id if record is not None else None,
        name=change.new_value if change.kind is ChangeKind.ADD_TO_PROVIDER else None,
    )


def _perform(
    db: Database, write: Write, providers: Mapping[ProviderName, Provider], settings: Settings
) -> str:
    """Carry the write out; the message says what happened, in the user's words."""
    if write.kind is ChangeKind.LINK:
        return _link(db, write, settings)
    if write.kind is ChangeKind.UNLINK:
        return _unlink(db, write, settings)
    provider = providers.get(write.provider)
    if provider is None:
        raise ProviderError(write.provider, "not connected")
    label = write.provider.label
    if write.kind is ChangeKind.ADD_TO_PROVIDER:
        if write.target is None:
            return _add_entry(db, write, provider, settings)
        return _upload(db, write, provider, settings)
    provider_id = write.provider_id
    if provider_id is None:
        raise ApplyError("the record is no longer in Tracekit")
    if write.kind is ChangeKind.DOWNLOAD_ORIGINAL:
        return _download(db, write, provider, provider_id, settings)
    if write.kind is ChangeKind.RENAME:
        provider.rename(provider_id, str(write.new_value))
        done = f"renamed on {label}"
    elif write.kind is ChangeKind.SET_DESCRIPTION:
        provider.set_description(provider_id, str(write.new_value or ""))
        done = f"description set on {label}"
    else:
        provider.set_gear(provider_id, write.target)
        done = f"gear set on {label}"
    return _read_back(db, write, provider, provider_id, settings, done)


def _read_back(
    db: Database,
    write: Write,
    provider: Provider,
    provider_id: str,
    settings: Settings,
    done: str,
) -> str:
    """Store what the provider now has; the write itself already succeeded, so a failed read
    is reported beside it rather than as a failure of the change."""
    try:
        remote = provider.fetch(provider_id)
    except ProviderError as error:
        return f"{done}; reading it back failed ({error}), the next sync will update it"
    now = datetime.now(UTC)
    with db.session() as session:
        record = session.get(ProviderRecord, write.record_id)
        if record is not None:
            update_from_remote(
                record,
                remote,
                GearIndex.load(session).provider_gear_name(record.provider, remote.gear_id),
                now,
            )
            if record.activity is not None:
                _refresh(session, record.activity, now)
    shown = {
        ChangeKind.RENAME: (remote.name, write.new_value),
        ChangeKind.SET_DESCRIPTION: (remote.description, write.new_value),
    }.get(write.kind)
    if shown is not None and not same_text(shown[0], shown[1]):
        return f"{done}, but {write.provider.label} now shows “{shown[0] or ''}”"
    return done


def _upload(db: Database, write: Write, provider: Provider, settings: Settings) -> str:
    if write.target is None or write.activity_id is None:
        raise ApplyError("nothing to upload")
    label = write.provider.label
    result = provider.upload(
        Path(write.target), write.name, external_id=f"tracekit-{write.activity_id}"
    )
    if result.duplicate:
        head = f"{label} already had this activity ({result.provider_id})"
    else:
        head = f"uploaded to {label} as {result.provider_id}"
    return _link_added(db, write, provider, settings, result, head)


def _add_entry(db: Database, write: Write, provider: Provider, settings: Settings) -> str:
    """Add the session to a provider of entries (a training log) from its own values."""
    if write.activity_id is None:
        raise ApplyError("nothing to add")
    with db.session() as session:
        activity = _activity(session, write.activity_id)
        records = list(activity.records)
        gear = GearIndex.load(session)
        pins = load_pins(session, [activity.id]).get(activity.id, [])
        authority = authoritative(records, pins, settings, gear)
        entry = NewEntry(
            sport=activity.sport,
            start_utc=activity.start_utc,
            start_local=activity.start_local,
            timezone=activity.timezone,
            date_only=activity.date_only,
            elapsed_s=activity.elapsed_s,
            distance_m=activity.distance_m,
            name=write.name,
            description=authority.description.display if authority.description else None,
            gear_name=authority.gear.display if authority.gear else None,
            evidence=frozenset(f"{r.provider.value}:{r.provider_id}" for r in records),
        )
    result = provider.add_entry(entry)
    label = write.provider.label
    if result.duplicate:
        head = f"{label} already had this session ({result.provider_id})"
    else:
        head = f"added to {label} as {result.provider_id}"
    return _link_added(db, write, provider, settings, result, head)


def _link_added(
    db: Database,
    write: Write,
    provider: Provider,
    settings: Settings,
    result: UploadResult,
    head: str,
) -> str:
    """Read back what an upload or a new entry created and link it to the activity."""
    assert write.activity_id is not None
    try:
        remote = provider.fetch(result.provider_id)
    except ProviderError as error:
        return f"{head}; reading it back failed ({error}), the next sync will link it"
    now = datetime.now(UTC)
    with db.session() as session:
        record = session.scalars(
            select(ProviderRecord).where(
                ProviderRecord.provider == write.provider,
                ProviderRecord.provider_id == remote.provider_id,
            )
        ).one_or_none()
        if record is None:
            record = ProviderRecord(
                provider=write.provider,
                provider_id=remote.provider_id,
                fetched_at=now,
                changed_at=now,
            )
            session.add(record)
        update_from_remote(
            record,
            remote,
            GearIndex.load(session).provider_gear_name(record.provider, remote.gear_id),
            now,
        )
        why = "already there when it was added" if result.duplicate else "added by Tracekit"
        _move(session, [record], _activity(session, write.activity_id), why, settings, now)
    return f"{head}; linked it" if result.duplicate else head


def _download(
    db: Database, write: Write, provider: Provider, provider_id: str, settings: Settings
) -> str:
    if write.activity_id is None:
        raise ApplyError("the activity is no longer in Tracekit")
    label = write.provider.label
    with TemporaryDirectory(prefix="tracekit-download-") as folder:
        path = provider.download_original(provider_id, Path(folder))
        report = FileImporter(db, archive_dir_for(db.url)).run([path], workers=1)
    if report.failed:
        raise ApplyError(f"the file from {label} could not be imported: {report.failed[0].error}")
    items = report.imported + report.duplicates
    if not items:
        raise ApplyError(f"{label} returned no activity file")
    now = datetime.now(UTC)
    with db.session() as session:
        activity = _activity(session, write.activity_id)
        item = _nearest(items, activity.start_utc)
        record = session.get(ProviderRecord, item.record_id)
        if record is None:
            raise ApplyError("the imported file's record vanished")
        _move(session, [record], activity, f"original file downloaded from {label}", settings, now)
        archived = Path(record.file_path or "").name
    if report.imported:
        return f"downloaded from {label}; archived as {archived}"
    return f"the archive already had this file ({archived}); linked it"


def _nearest(items: Sequence[ImportedItem], start: datetime | None) -> ImportedItem:
    """The imported session that is this activity (a file may hold several)."""
    if start is None:
        return items[0]
    return min(items, key=lambda item: abs((item.start_utc - start).total_seconds()))


def _link(db: Database, write: Write, settings: Settings) -> str:
    ids = [int(part) for part in (write.target or "").split(",") if part]
    if write.activity_id is None or len(ids) < 2:
        raise ApplyError("linking needs at least two records")
    now = datetime.now(UTC)
    with db.session() as session:
        records = [session.get(ProviderRecord, rid) for rid in ids]
        found = [r for r in records if r is not None]
        if len(found) != len(ids):
            raise ApplyError("a record to link is no longer in Tracekit")
        _forget_decisions(session, ids, among_only=True)
        session.add_all(
            MatchDecision(
                kind=MatchDecisionKind.LINK,
                record_id=a.id,
                other_record_id=b.id,
                decided_at=now,
            )
            for position, a in enumerate(found)
            for b in found[position + 1 :]
        )
        target = _activity(session, write.activity_id)
        _move(session, found, target, "you linked them", settings, now)
        for flag in session.scalars(select(ReviewFlag)):
            if {int(i) for i in flag.record_ids} == set(ids):
                session.delete(flag)
        session.flush()
        target.needs_review = _still_flagged(session, set(ids))
    return f"linked {len(ids)} records into one activity"


def _unlink(db: Database, write: Write, settings: Settings) -> str:
    now = datetime.now(UTC)
    with db.session() as session:
        record = session.get(ProviderRecord, write.record_id) if write.record_id else None
        if record is None:
            raise ApplyError("the record is no longer in Tracekit")
        _forget_decisions(session, [record.id], among_only=False)
        session.add(
            MatchDecision(kind=MatchDecisionKind.ALONE, record_id=record.id, decided_at=now)
        )
        alone = Activity(created_at=now)
        refresh_activity(alone, [record], now)  # a new activity needs its day before it is stored
        session.add(alone)
        _move(session, [record], alone, "you took it out of its activity", settings, now)
    return f"the {record.provider.label} record is now an activity of its own"


def _forget_decisions(session: Session, ids: Sequence[int], *, among_only: bool) -> None:
    """Drop earlier decisions the new one replaces (the user's latest word wins): those among
    these records, or — for a record set alone — every link and alone decision it is part of."""
    if among_only:
        condition = MatchDecision.record_id.in_(ids) & or_(
            MatchDecision.other_record_id.in_(ids), MatchDecision.other_record_id.is_(None)
        )
    else:
        condition = or_(
            MatchDecision.record_id.in_(ids), MatchDecision.other_record_id.in_(ids)
        ) & (MatchDecision.kind != MatchDecisionKind.NEVER)
    session.execute(delete(MatchDecision).where(condition))


def _still_flagged(session: Session, ids: set[int]) -> bool:
    return any(
        ids & {int(i) for i in flag.record_ids} for flag in session.scalars(select(ReviewFlag))
    )


def _move(
    session: Session,
    records: Sequence[ProviderRecord],
    target: Activity,
    why: str,
    settings: Settings,
    now: datetime,
) -> None:
    """Put records into `target` as the user's links; an activity left empty is removed, and
    every activity touched is refreshed."""
    previous = {r.activity_id for r in records if r.activity_id is not None}
    for record in records:
        record.activity = target
        record.link_origin = LinkOrigin.USER
        record.link_score = None
        record.link_explanation = {"summary": why, "reason": "decision"}
    session.flush()
    for activity_id in previous - {target.id}:
        emptied = session.get(Activity, activity_id)
        if emptied is None:
            continue
        if session.scalars(
            select(ProviderRecord.id).where(ProviderRecord.activity_id == activity_id)
        ).first():
            _refresh(session, emptied, now)
        else:
            session.delete(emptied)
    _refresh(session, target, now)


def _activity(session: Session, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ApplyError("the activity is no longer in Tracekit")
    return activity


def _finish(
    db: Database, write: Write, journal_id: int, state: JournalState, message: str
) -> ApplyOutcome:
    with db.session() as session:
        entry = session.get(JournalEntry, journal_id)
        assert entry is not None  # written by `execute`, never deleted
        entry.state = state
        entry.message = message
        entry.finished_at = datetime.now(UTC)
        if state is JournalState.DONE and write.undoes_id is not None:
            undone = session.get(JournalEntry, write.undoes_id)
            if undone is not None:
                undone.state = JournalState.UNDONE
    status = OutcomeStatus.DONE if state is JournalState.DONE else OutcomeStatus.FAILED
    return ApplyOutcome(write.change_id, status, message, journal_id)
