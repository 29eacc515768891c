"""The journal of what Tracekit sent where, and undoing a change it made.

The journal is the answer to "what did Tracekit do to my accounts?": every write, upload,
download and link, with the value before and after and how it ended. An undo is itself a
journaled write through `tracekit.apply`, and it is refused when the provider's value is no
longer the one Tracekit wrote: someone changed it since, and writing the old value back would
overwrite their edit. A done undo dismisses the change it undid (`tracekit.dismissals`): the
next review would otherwise propose the very same change again.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracekit.apply import ApplyOutcome, OutcomeStatus, Write, execute
from tracekit.authority import same_text
from tracekit.changes import ChangeKind, Field
from tracekit.dismissals import DismissRefused, dismiss
from tracekit.providers.base import Capability, Provider, ProviderError, RemoteActivity
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import JournalEntry, JournalState, ProviderRecord

# What an undo writes back with, per kind of change.
_UNDOABLE = {
    ChangeKind.RENAME: Capability.RENAME,
    ChangeKind.SET_DESCRIPTION: Capability.SET_DESCRIPTION,
    ChangeKind.SET_GEAR: Capability.SET_GEAR,
}


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One journal entry as the user reads it (gear by name, files by file name)."""

    id: int
    change_id: str
    kind: ChangeKind
    field: Field | None
    provider: ProviderName
    record_id: int | None
    old_value: str | None
    new_value: str | None
    state: JournalState
    message: str | None
    created_at: datetime
    finished_at: datetime | None
    undoes_id: int | None
    undoable: bool


def journal_entries(session: Session, limit: int = 200) -> list[JournalLine]:
    """The newest `limit` journal entries, newest first."""
    rows = session.scalars(
        select(JournalEntry)
        .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
        .limit(limit)
    )
    return [_line(row) for row in rows]


def undo(
    db: Database,
    journal_id: int,
    providers: Mapping[ProviderName, Provider],
    settings: Settings,
) -> ApplyOutcome:
    """Write the old value of a done rename, description or gear change back, and dismiss the
    change so it is not proposed again.

    Refused (status "skipped", nothing sent) for anything else, and when the provider's
    current value is not the one Tracekit wrote.
    """
    with db.session() as session:
        entry = session.get(JournalEntry, journal_id)
        if entry is None:
            return ApplyOutcome("", OutcomeStatus.SKIPPED, f"no journal entry {journal_id}")
        refusal = _refusal(entry)
        record = session.get(ProviderRecord, entry.record_id) if entry.record_id else None
        if refusal is None and record is None:
            refusal = "the record is no longer in Tracekit"
        if refusal is not None or record is None:
            return _refused(entry.change_id, journal_id, refusal or "")
        kind = ChangeKind(entry.kind)
        write = Write(
            change_id=f"undo-{entry.change_id}",
            kind=kind,
            activity_id=record.activity_id,
            provider=entry.provider,
            record_id=record.id,
            field=Field(entry.field) if entry.field else None,
            old_value=entry.new_value,
            new_value=entry.old_value,
            target=_gear_id(entry.old_value) if kind is ChangeKind.SET_GEAR else None,
            provider_id=record.provider_id,
            undoes_id=entry.id,
        )
        written = entry.new_value
        undone = entry.change_id
    label = write.provider.label
    provider = providers.get(write.provider)
    if provider is None:
        return _refused(write.change_id, journal_id, f"{label} is not connected")
    if not provider.can(_UNDOABLE[kind]):
        verb = _UNDOABLE[kind].value.replace("_", " ")
        return _refused(write.change_id, journal_id, f"{label} cannot {verb}")
    assert write.provider_id is not None
    try:
        current = provider.fetch(write.provider_id)
    except ProviderError as error:
        return ApplyOutcome(
            write.change_id,
            OutcomeStatus.FAILED,
            f"could not check {label} before undoing: {error}",
            journal_id,
        )
    if not _still_written(kind, current, written):
        return _refused(write.change_id, journal_id, f"changed on {label} since; not undoing")
    outcome = execute(db, write, providers, settings)
    if outcome.status is not OutcomeStatus.DONE:
        return outcome
    capabilities = {name: p.capabilities for name, p in providers.items()}
    try:
        dismiss(db, [undone], settings, capabilities)
    except DismissRefused:  # not proposed now (an undo undone, a record moved): nothing to hide
        return outcome
    return replace(outcome, message=f"{outcome.message}, and it will not be proposed again")


def _refusal(entry: JournalEntry) -> str | None:
    """Why this entry cannot be undone, or None when it can."""
    state = entry.state
    if state is JournalState.UNDONE:
        return "it was already undone"
    if state is JournalState.FAILED:
        return "it failed, so nothing was changed"
    if state is JournalState.PENDING:
        return "it never finished, so what it changed is unknown"
    kind = ChangeKind(entry.kind)
    label = entry.provider.label
    if kind is ChangeKind.ADD_TO_PROVIDER:
        return f"an upload cannot be undone from Tracekit; delete the activity on {label}"
    if kind is ChangeKind.DOWNLOAD_ORIGINAL:
        return "a downloaded original stays in the archive"
    if kind in (ChangeKind.LINK, ChangeKind.UNLINK):
        return "links are undone by unlinking or linking the records again"
    if kind is ChangeKind.RENAME and not entry.old_value:
        return "it had no name before, so there is none to write back"
    return None


def _refused(change_id: str, journal_id: int, reason: str) -> ApplyOutcome:
    return ApplyOutcome(change_id, OutcomeStatus.SKIPPED, reason, journal_id)


def _still_written(kind: ChangeKind, current: RemoteActivity, written: Any) -> bool:
    if kind is ChangeKind.RENAME:
        return same_text(current.name, written)
    if kind is ChangeKind.SET_DESCRIPTION:
        return same_text(current.description, written)
    return current.gear_id == _gear_id(written)


def _gear_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def _display(kind: ChangeKind, value: Any) -> str | None:
    if isinstance(value, dict):  # gear
        name = value.get("name")
        return None if name is None else str(name)
    if kind is ChangeKind.ADD_TO_PROVIDER and isinstance(value, str):  # the uploaded file
        return Path(value).name
    return None if value is None else str(value)


def _line(entry: JournalEntry) -> JournalLine:
    kind = ChangeKind(entry.kind)
    return JournalLine(
        id=entry.id,
        change_id=entry.change_id,
        kind=kind,
        field=Field(entry.field) if entry.field else None,
        provider=entry.provider,
        record_id=entry.record_id,
        old_value=_display(kind, entry.old_value),
        new_value=_display(kind, entry.new_value),
        state=entry.state,
        message=entry.message,
        created_at=entry.created_at,
        finished_at=entry.finished_at,
        undoes_id=entry.undoes_id,
        undoable=_refusal(entry) is None and entry.record_id is not None,
    )
