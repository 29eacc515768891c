"""The vocabulary of proposed changes: what Tracekit may ask the user to approve.

A change names its target exactly (provider, record, field, old and new value) and has a stable
id derived from that content, so the same proposal keeps its id across runs and a stale id (its
proposal no longer holds) can be recognised and refused.
"""

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from tracekit.providers.names import ProviderName


class Field(StrEnum):
    NAME = "name"
    DESCRIPTION = "description"
    GEAR = "gear"
    SPORT = "sport"


class ChangeKind(StrEnum):
    RENAME = "rename"
    SET_DESCRIPTION = "set_description"
    SET_GEAR = "set_gear"
    ADD_TO_PROVIDER = "add_to_provider"  # upload the original file to a provider that lacks it
    DOWNLOAD_ORIGINAL = "download_original"  # fetch a provider's original file into the archive
    LINK = "link"  # local only: these records are the same session
    UNLINK = "unlink"  # local only: this record is not part of that session

    @property
    def writes_to_provider(self) -> bool:
        return self in (
            ChangeKind.RENAME,
            ChangeKind.SET_DESCRIPTION,
            ChangeKind.SET_GEAR,
            ChangeKind.ADD_TO_PROVIDER,
        )


PINNED = "pinned"


@dataclass(frozen=True, slots=True)
class ProposedChange:
    """One proposal. `old_value`/`new_value` are what the user reads (gear by its name);
    `target` is what the write needs (the provider's gear id, the archived file's path, the
    other record's id)."""

    id: str
    kind: ChangeKind
    activity_id: int
    provider: ProviderName
    record_id: int | None
    field: Field | None
    old_value: str | None
    new_value: str | None
    source: str  # PINNED, or the provider the value comes from
    reason: str
    target: str | None = None


def change_id(
    activity_id: int, kind: ChangeKind, provider: ProviderName, subject: str, value: str | None
) -> str:
    """A stable id from what the change does: same proposal, same id.

    It starts with the activity's id (`a123-…`), so applying an id re-derives that one
    activity's proposals and refuses the id if its proposal no longer holds.
    """
    text = "\x1f".join((kind.value, provider.value, subject, value or ""))
    return f"a{activity_id}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def activity_of(change: str) -> int | None:
    """The activity id a change id belongs to, or None when it is not a change id."""
    head, sep, _ = change.partition("-")
    if not sep or not head.startswith("a") or not head[1:].isdigit():
        return None
    return int(head[1:])
