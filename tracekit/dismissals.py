"""Dismissing a proposal: "don't propose this again", for one exact change.

A pin changes what every provider is offered; a dismissal only hides one proposal, because the
user keeps something else on that provider on purpose. It is keyed by the change id, which is
derived from what the change does (`tracekit.changes.change_id`): when the facts move on and
another value is proposed, that is another change and it is proposed. Undoing a change in the
journal dismisses it too (`tracekit.journal.undo`), or the next review would propose it straight
back. Nothing here calls a provider.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracekit.changes import ProposedChange, activity_of
from tracekit.providers.base import Capability
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import DismissedChange

NOT_A_CHANGE_ID = "not a change id"
NOT_PROPOSED = "not proposed now"


class DismissRefused(ValueError):
    """Change ids that cannot be dismissed, each with why; none of the ids was dismissed."""

    def __init__(self, refused: Mapping[str, str]) -> None:
        self.refused = dict(refused)
        super().__init__("; ".join(f"{change}: {why}" for change, why in self.refused.items()))


def dismissed_ids(session: Session, activity_ids: Iterable[int]) -> set[str]:
    """The ids of the changes dismissed for these activities."""
    ids = set(activity_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(DismissedChange.change_id).where(DismissedChange.activity_id.in_(ids))
        )
    )


def dismiss(
    db: Database,
    change_ids: Iterable[str],
    settings: Settings,
    capabilities: Mapping[ProviderName, frozenset[Capability]],
) -> list[ProposedChange]:
    """Dismiss these changes, all or none; the changes, in the order given.

    Each must be proposed now (or be dismissed already), checked against the proposals worked
    out again as applying does: a mistyped or stale id is refused rather than kept as a
    dismissal nothing will ever match. Raises DismissRefused naming every id refused.
    """
    from tracekit.proposals import propose_all  # not at the top: proposals reads dismissed_ids

    wanted = list(dict.fromkeys(change_ids))
    activities = {a for a in map(activity_of, wanted) if a is not None}
    with db.session() as session:
        current = propose_all(session, activities, settings, capabilities)
        known = {c.id: c for c in (*current.proposed, *current.dismissed)}
        refused = {
            change: NOT_A_CHANGE_ID if activity_of(change) is None else NOT_PROPOSED
            for change in wanted
            if change not in known
        }
        if refused:
            raise DismissRefused(refused)
        already = {c.id for c in current.dismissed}
        now = datetime.now(UTC)
        session.add_all(
            DismissedChange(
                change_id=change.id,
                activity_id=change.activity_id,
                kind=change.kind,
                provider=change.provider,
                dismissed_at=now,
            )
            for change in (known[i] for i in wanted)
            if change.id not in already
        )
    return [known[i] for i in wanted]


def restore(db: Database, change_ids: Iterable[str]) -> list[str]:
    """Propose these changes again; the ids among them that were dismissed."""
    wanted = list(dict.fromkeys(change_ids))
    with db.session() as session:
        found = set(
            session.scalars(
                select(DismissedChange.change_id).where(DismissedChange.change_id.in_(wanted))
            )
        )
        session.execute(delete(DismissedChange).where(DismissedChange.change_id.in_(found)))
    return [change for change in wanted if change in found]
