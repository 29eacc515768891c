"""What Tracekit would change, computed from the store alone, for the user to approve.

Proposing reads the database and nothing else: no provider is called, so reviewing a month is
free and can never change anything. Each change is worked out from the activity's authority
(`tracekit.authority`) and the capabilities of the connected providers: a provider that cannot
rename is never asked to, and a provider that is not connected gets nothing. Applying an id
re-runs this for its activity (`tracekit.apply`), so ids must come out the same for the same
facts: they are derived from what the change does, never from row order or time. A change the
user dismissed (`tracekit.dismissals`) is worked out like the rest and then set apart, so it can
be listed and restored but is never proposed.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tracekit.authority import (
    Authority,
    Chosen,
    authoritative,
    load_pins,
    same_text,
)
from tracekit.changes import PINNED, ChangeKind, Field, ProposedChange, change_id
from tracekit.dismissals import dismissed_ids
from tracekit.gear_index import GearIndex
from tracekit.providers.base import Capability
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.models import Activity, ProviderRecord, ReviewFlag, ReviewKind

type Capabilities = Mapping[ProviderName, frozenset[Capability]]

_TEXT_FIELDS = (
    (Field.NAME, ChangeKind.RENAME, Capability.RENAME),
    (Field.DESCRIPTION, ChangeKind.SET_DESCRIPTION, Capability.SET_DESCRIPTION),
)
# Providers that are never uploaded to: the archive is where files come from, and a log row
# is not made from a file.
_NO_UPLOAD = frozenset({ProviderName.FILE, ProviderName.SPREADSHEET})
_LINKABLE_FLAGS = frozenset({ReviewKind.AMBIGUOUS, ReviewKind.TIMEZONE_CONFLICT})
_KIND_ORDER = {kind: position for position, kind in enumerate(ChangeKind)}


@dataclass(frozen=True, slots=True)
class Proposals:
    """What is proposed, and apart from it what would be but the user dismissed."""

    proposed: tuple[ProposedChange, ...]
    dismissed: tuple[ProposedChange, ...]


def propose(
    session: Session,
    activity_ids: Iterable[int],
    settings: Settings,
    capabilities: Capabilities,
) -> list[ProposedChange]:
    """Every change proposed for these activities, in a stable order (day, kind, provider),
    without those the user dismissed.

    `capabilities` holds the connected providers only.
    """
    return list(propose_all(session, activity_ids, settings, capabilities).proposed)


def propose_all(
    session: Session,
    activity_ids: Iterable[int],
    settings: Settings,
    capabilities: Capabilities,
) -> Proposals:
    """The proposals of `propose`, and the dismissed changes it leaves out, so the user can see
    and restore them. Dismissed ones are worked out from today's facts too: a dismissal whose
    proposal no longer holds (another value is proposed now) is not listed."""
    ids = sorted(set(activity_ids))
    if not ids:
        return Proposals((), ())
    activities = list(
        session.scalars(
            select(Activity).where(Activity.id.in_(ids)).options(selectinload(Activity.records))
        )
    )
    pins = load_pins(session, ids)
    index = GearIndex.load(session)
    shared = _shared_files(session, activities)
    changes: list[ProposedChange] = []
    for activity in activities:
        records = sorted(activity.records, key=lambda r: (settings.rank(r.provider), r.id))
        authority = authoritative(records, pins.get(activity.id, ()), settings, index)
        for record in records:
            changes += _field_changes(activity, record, authority, index, capabilities)
        changes += _uploads(activity, records, authority, capabilities, settings, shared)
        changes += _entries(activity, records, authority, capabilities, settings)
        changes += _downloads(activity, records, capabilities, settings)
    changes += _links(session, {a.id for a in activities})
    dates = {a.id: a.local_date for a in activities}
    ordered = sorted(
        changes,
        key=lambda c: (
            dates[c.activity_id],
            c.activity_id,
            _KIND_ORDER[c.kind],
            settings.rank(c.provider),
            c.record_id or 0,
            c.id,
        ),
    )
    dismissed = dismissed_ids(session, ids)
    return Proposals(
        proposed=tuple(c for c in ordered if c.id not in dismissed),
        dismissed=tuple(c for c in ordered if c.id in dismissed),
    )


def propose_between(
    session: Session, start: date, end: date, settings: Settings, capabilities: Capabilities
) -> list[ProposedChange]:
    """The proposals for the activities whose local date is in [start, end] (a month's review)."""
    ids = session.scalars(select(Activity.id).where(Activity.local_date.between(start, end)))
    return propose(session, ids, settings, capabilities)


def unlink_changes(session: Session, activity_id: int) -> list[ProposedChange]:
    """The UNLINK changes the user may ask for on an activity: one per record, when it has
    more than one. They are never proposed unprompted; the user picks one in the window."""
    records = sorted(
        session.scalars(select(ProviderRecord).where(ProviderRecord.activity_id == activity_id)),
        key=lambda r: r.id,
    )
    if len(records) < 2:
        return []
    return [
        ProposedChange(
            id=change_id(activity_id, ChangeKind.UNLINK, r.provider, f"record:{r.id}", None),
            kind=ChangeKind.UNLINK,
            activity_id=activity_id,
            provider=r.provider,
            record_id=r.id,
            field=None,
            old_value=None,
            new_value=None,
            source=r.provider.value,
            reason=f"You said this {r.provider.label} record is not part of this activity",
            target=str(r.id),
        )
        for r in records
    ]


def _field_changes(
    activity: Activity,
    record: ProviderRecord,
    authority: Authority,
    index: GearIndex,
    capabilities: Capabilities,
) -> list[ProposedChange]:
    can = capabilities.get(record.provider)
    if can is None:
        return []
    changes = []
    for field, kind, capability in _TEXT_FIELDS:
        chosen = authority.of(field)
        current: str | None = getattr(record, field.value)
        if (
            chosen is None
            or capability not in can
            or chosen.record_id == record.id
            or same_text(current, chosen.value)
        ):
            continue
        changes.append(
            _change(
                activity,
                kind,
                record,
                field,
                current,
                chosen,
                subject_value=chosen.value,
                reason=_text_reason(field, record.provider, current, chosen),
            )
        )
    gear = _gear_change(activity, record, authority, index, can)
    return changes if gear is None else [*changes, gear]


def _gear_change(
    activity: Activity,
    record: ProviderRecord,
    authority: Authority,
    index: GearIndex,
    can: frozenset[Capability],
) -> ProposedChange | None:
    chosen, wanted = authority.gear, authority.gear_ref
    if chosen is None or wanted is None or Capability.SET_GEAR not in can:
        return None
    if chosen.record_id == record.id:
        return None
    current = index.resolve(record.provider, record.gear_id, record.gear_name)
    if current is not None and current.key == wanted.key:
        return None
    target = index.provider_gear_id(wanted, record.provider)
    if target is None or target == record.gear_id:
        return None
    old = current.name if current is not None else None
    return _change(
        activity,
        ChangeKind.SET_GEAR,
        record,
        Field.GEAR,
        old,
        chosen,
        subject_value=target,
        reason=f"{_says(chosen)} {chosen.display}; {record.provider.label} shows "
        f"{old or 'no gear'}",
        target=target,
    )


def _change(
    activity: Activity,
    kind: ChangeKind,
    record: ProviderRecord,
    field: Field,
    old: str | None,
    chosen: Chosen,
    *,
    subject_value: str,
    reason: str,
    target: str | None = None,
) -> ProposedChange:
    return ProposedChange(
        id=change_id(activity.id, kind, record.provider, f"record:{record.id}", subject_value),
        kind=kind,
        activity_id=activity.id,
        provider=record.provider,
        record_id=record.id,
        field=field,
        old_value=old,
        new_value=chosen.display,
        source=chosen.source,
        reason=reason,
        target=target,
    )


def _uploads(
    activity: Activity,
    records: Sequence[ProviderRecord],
    authority: Authority,
    capabilities: Capabilities,
    settings: Settings,
    shared: set[str],
) -> list[ProposedChange]:
    original = next(
        (
            r
            for r in sorted(records, key=lambda r: r.id)
            if r.provider is ProviderName.FILE
            and r.file_path
            and r.checksum not in shared
            and Path(r.file_path).is_file()
        ),
        None,
    )
    if original is None or original.file_path is None:
        return []
    present = {r.provider for r in records}
    name = authority.name.display if authority.name is not None else None
    file_name = Path(original.file_path).name
    return [
        ProposedChange(
            id=change_id(
                activity.id,
                ChangeKind.ADD_TO_PROVIDER,
                provider,
                f"record:{original.id}",
                f"{original.file_path}\x1f{name or ''}",
            ),
            kind=ChangeKind.ADD_TO_PROVIDER,
            activity_id=activity.id,
            provider=provider,
            record_id=original.id,
            field=None,
            old_value=None,
            new_value=name,
            source=ProviderName.FILE.value,
            reason=f"{provider.label} does not have this activity; upload {file_name}",
            target=original.file_path,
        )
        for provider in sorted(capabilities, key=settings.rank)
        if Capability.UPLOAD in capabilities[provider]
        and provider not in _NO_UPLOAD
        and provider not in present
    ]


def _entries(
    activity: Activity,
    records: Sequence[ProviderRecord],
    authority: Authority,
    capabilities: Capabilities,
    settings: Settings,
) -> list[ProposedChange]:
    """A row for a session a training log lacks, from the session's own values.

    Only from a source's record: a session only a write-only provider knows is not copied out.
    """
    if not any(settings.is_source(r.provider) for r in records):
        return []
    present = {r.provider for r in records}
    name = authority.name.display if authority.name is not None else None
    day = activity.local_date.isoformat()
    return [
        ProposedChange(
            id=change_id(activity.id, ChangeKind.ADD_TO_PROVIDER, provider, "entry", name),
            kind=ChangeKind.ADD_TO_PROVIDER,
            activity_id=activity.id,
            provider=provider,
            record_id=None,
            field=None,
            old_value=None,
            new_value=name,
            source=authority.name.source if authority.name is not None else "",
            reason=f"{provider.label} has no entry for this session; add one for {day}",
        )
        for provider in sorted(capabilities, key=settings.rank)
        if Capability.ADD_ENTRY in capabilities[provider] and provider not in present
    ]


def _downloads(
    activity: Activity,
    records: Sequence[ProviderRecord],
    capabilities: Capabilities,
    settings: Settings,
) -> list[ProposedChange]:
    """One download of the original file, from the highest-priority source that offers it,
    when the archive holds no file of the activity. A write-only provider's file would make it
    a source, so it is not downloaded from."""
    if any(r.provider is ProviderName.FILE for r in records):
        return []
    record = next(
        (
            r
            for r in records
            if settings.is_source(r.provider)
            and Capability.DOWNLOAD_ORIGINAL in capabilities.get(r.provider, frozenset())
        ),
        None,
    )
    if record is None:
        return []
    return [
        ProposedChange(
            id=change_id(
                activity.id,
                ChangeKind.DOWNLOAD_ORIGINAL,
                record.provider,
                f"record:{record.id}",
                None,
            ),
            kind=ChangeKind.DOWNLOAD_ORIGINAL,
            activity_id=activity.id,
            provider=record.provider,
            record_id=record.id,
            field=None,
            old_value=None,
            new_value=None,
            source=record.provider.value,
            reason=f"The archive has no original file; download it from {record.provider.label}",
            target=str(record.id),
        )
    ]


def _links(session: Session, activity_ids: set[int]) -> list[ProposedChange]:
    """One LINK per review flag the matcher left for the user, when its records are still
    apart. A flag belongs to the activity of its first record, so applying the change finds
    it again from the activity id."""
    flags = [
        f
        for f in session.scalars(select(ReviewFlag).order_by(ReviewFlag.id))
        if f.kind in _LINKABLE_FLAGS
    ]
    wanted = {int(i) for f in flags for i in f.record_ids}
    if not wanted:
        return []
    found = {
        r.id: r
        for r in session.scalars(select(ProviderRecord).where(ProviderRecord.id.in_(wanted)))
    }
    changes = []
    for flag in flags:
        records = [found[int(i)] for i in flag.record_ids if int(i) in found]
        if len(records) < 2 or records[0].activity_id not in activity_ids:
            continue
        if len({r.activity_id for r in records}) == 1:
            continue
        owner, first = records[0].activity_id, records[0]
        assert owner is not None
        target = ",".join(str(r.id) for r in records)
        changes.append(
            ProposedChange(
                id=change_id(owner, ChangeKind.LINK, first.provider, target, None),
                kind=ChangeKind.LINK,
                activity_id=owner,
                provider=first.provider,
                record_id=first.id,
                field=None,
                old_value=None,
                new_value=" + ".join(f"{r.provider.label} {r.provider_id}" for r in records),
                source=first.provider.value,
                reason=flag.message,
                target=target,
            )
        )
    return changes


def _shared_files(session: Session, activities: Sequence[Activity]) -> set[str]:
    """Checksums of archived files holding more than one activity (a GPX with two tracks):
    uploading such a file would add the other activity too."""
    checksums = {
        r.checksum
        for a in activities
        for r in a.records
        if r.provider is ProviderName.FILE and r.checksum
    }
    if not checksums:
        return set()
    rows = session.execute(
        select(ProviderRecord.checksum)
        .where(ProviderRecord.provider == ProviderName.FILE)
        .where(ProviderRecord.checksum.in_(checksums))
        .group_by(ProviderRecord.checksum)
        .having(func.count() > 1)
    )
    return {checksum for (checksum,) in rows if checksum}


def _says(chosen: Chosen) -> str:
    if chosen.source == PINNED:
        return "You pinned"
    return f"{ProviderName(chosen.source).label} has"


def _text_reason(field: Field, provider: ProviderName, current: str | None, chosen: Chosen) -> str:
    if field is Field.NAME:
        shown = f"“{' '.join(current.split())}”" if current and current.strip() else "no name"
        return f"{_says(chosen)} “{chosen.display}”; {provider.label} shows {shown}"
    state = "a different one" if current and current.strip() else "none"
    return f"{_says(chosen)} a description; {provider.label} has {state}"
