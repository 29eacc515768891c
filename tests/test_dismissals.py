"""Dismissing a proposal: it stays out of every review until restored, nothing is sent anywhere,
a different proposal for the same field is proposed, and undoing a change dismisses it."""

from datetime import UTC

import pytest
from sqlalchemy import func, select

from tests.fakes import MemoryProvider, add_activity, record, remote
from tracekit.apply import DISMISSED, OutcomeStatus, apply
from tracekit.changes import ChangeKind, ProposedChange
from tracekit.dismissals import (
    NOT_A_CHANGE_ID,
    NOT_PROPOSED,
    DismissRefused,
    dismiss,
    dismissed_ids,
    restore,
)
from tracekit.journal import undo
from tracekit.proposals import Proposals, propose, propose_all
from tracekit.providers.base import Capability, Provider
from tracekit.providers.names import ProviderName
from tracekit.review import build_review
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import Activity, DismissedChange, JournalEntry, ProviderRecord

GARMIN, STRAVA = ProviderName.GARMIN, ProviderName.STRAVA
EDIT = frozenset({Capability.READ, Capability.RENAME, Capability.SET_DESCRIPTION})
CAPABILITIES = {GARMIN: EDIT, STRAVA: EDIT}
TYPED = "Col de Rates loop"


def _ride(db: Database) -> int:
    """A ride whose Strava copy keeps its own title: one rename of Strava is proposed."""
    with db.session() as session:
        return add_activity(
            session, record(STRAVA, "s1", name="My Strava title"), record(GARMIN, "g1", name=TYPED)
        ).id


def _strava(db: Database) -> MemoryProvider:
    """Strava's service, holding what its record in the store says."""
    with db.session() as session:
        held = session.scalars(select(ProviderRecord).where(ProviderRecord.provider_id == "s1"))
        return MemoryProvider(STRAVA, EDIT, {"s1": remote(held.one())})


def _proposals(db: Database, activity_id: int) -> Proposals:
    with db.session() as session:
        return propose_all(session, [activity_id], Settings(), CAPABILITIES)


def _rename(db: Database, activity_id: int) -> ProposedChange:
    (change,) = _proposals(db, activity_id).proposed
    assert (change.kind, change.provider, change.new_value) == (ChangeKind.RENAME, STRAVA, TYPED)
    return change


def _dismissals(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(DismissedChange)) or 0


def test_a_dismissed_change_is_not_proposed_and_is_listed_apart(db: Database) -> None:
    activity_id = _ride(db)
    change = _rename(db, activity_id)

    assert dismiss(db, [change.id], Settings(), CAPABILITIES) == [change]

    assert _proposals(db, activity_id) == Proposals(proposed=(), dismissed=(change,))
    with db.session() as session:
        assert propose(session, [activity_id], Settings(), CAPABILITIES) == []
        assert dismissed_ids(session, [activity_id]) == {change.id}
        stored = session.get(DismissedChange, change.id)
        assert stored is not None
        assert (stored.activity_id, stored.kind, stored.provider) == (
            activity_id,
            ChangeKind.RENAME,
            STRAVA,
        )
        assert stored.dismissed_at.tzinfo is UTC
        activity = session.get(Activity, activity_id)
        assert activity is not None
        day = activity.local_date
        (entry,) = build_review(session, day, day, Settings(), CAPABILITIES)
    assert (entry.changes, entry.dismissed) == ((), (change,))
    assert [c["id"] for c in entry.as_json()["dismissed"]] == [change.id]


def test_dismissing_twice_keeps_one_dismissal(db: Database) -> None:
    change = _rename(db, _ride(db))
    dismiss(db, [change.id], Settings(), CAPABILITIES)
    assert dismiss(db, [change.id, change.id], Settings(), CAPABILITIES) == [change]
    assert _dismissals(db) == 1


def test_another_proposed_value_is_a_new_change_and_is_proposed(db: Database) -> None:
    activity_id = _ride(db)
    dismissed = _rename(db, activity_id)
    dismiss(db, [dismissed.id], Settings(), CAPABILITIES)
    with db.session() as session:
        garmin = session.scalars(
            select(ProviderRecord).where(ProviderRecord.provider_id == "g1")
        ).one()
        garmin.name = "Col de Rates and back"

    (change,) = _proposals(db, activity_id).proposed

    assert change.id != dismissed.id
    assert (change.kind, change.provider, change.new_value) == (
        ChangeKind.RENAME,
        STRAVA,
        "Col de Rates and back",
    )
    assert _proposals(db, activity_id).dismissed == ()  # the old proposal no longer holds


def test_restoring_proposes_it_again(db: Database) -> None:
    activity_id = _ride(db)
    change = _rename(db, activity_id)
    dismiss(db, [change.id], Settings(), CAPABILITIES)

    assert restore(db, [change.id, "a1-00000000"]) == [change.id]

    assert _proposals(db, activity_id) == Proposals(proposed=(change,), dismissed=())
    assert restore(db, [change.id]) == []  # no longer dismissed


def test_deleting_the_activity_deletes_its_dismissals(db: Database) -> None:
    activity_id = _ride(db)
    dismiss(db, [_rename(db, activity_id).id], Settings(), CAPABILITIES)
    with db.session() as session:
        session.delete(session.get(Activity, activity_id))
    assert _dismissals(db) == 0


def test_refused_ids_are_named_and_nothing_is_dismissed(db: Database) -> None:
    activity_id = _ride(db)
    change = _rename(db, activity_id)
    stale = f"a{activity_id}-00000000"
    missing = "a999-12345678"

    with pytest.raises(DismissRefused) as refused:
        dismiss(db, [change.id, "Morning Ride", stale, missing], Settings(), CAPABILITIES)

    assert refused.value.refused == {
        "Morning Ride": NOT_A_CHANGE_ID,
        stale: NOT_PROPOSED,
        missing: NOT_PROPOSED,
    }
    assert "Morning Ride: not a change id" in str(refused.value)
    assert _dismissals(db) == 0
    assert _proposals(db, activity_id).proposed == (change,)


def test_applying_a_dismissed_change_sends_nothing(db: Database) -> None:
    activity_id = _ride(db)
    change = _rename(db, activity_id)
    strava = _strava(db)
    dismiss(db, [change.id], Settings(), CAPABILITIES)

    (outcome,) = apply(db, [change.id], {STRAVA: strava}, Settings())

    assert (outcome.status, outcome.message) == (OutcomeStatus.SKIPPED, DISMISSED)
    assert strava.calls == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0


def test_an_undone_change_is_not_proposed_again_until_restored(db: Database) -> None:
    activity_id = _ride(db)
    strava = _strava(db)
    providers: dict[ProviderName, Provider] = {STRAVA: strava}
    change = _rename(db, activity_id)
    (applied,) = apply(db, [change.id], providers, Settings())
    assert applied.status is OutcomeStatus.DONE and applied.journal_id is not None
    assert _proposals(db, activity_id) == Proposals((), ())

    undone = undo(db, applied.journal_id, providers, Settings())

    assert undone.status is OutcomeStatus.DONE
    assert undone.message == "renamed on Strava, and it will not be proposed again"
    assert strava.activities["s1"].name == "My Strava title"
    with db.session() as session:
        assert propose(session, [activity_id], Settings(), CAPABILITIES) == []
    assert _proposals(db, activity_id).dismissed == (change,)
    restore(db, [change.id])
    assert _rename(db, activity_id) == change


def test_undoing_an_undo_says_nothing_about_proposals(db: Database) -> None:
    activity_id = _ride(db)
    strava = _strava(db)
    providers: dict[ProviderName, Provider] = {STRAVA: strava}
    (applied,) = apply(db, [_rename(db, activity_id).id], providers, Settings())
    assert applied.journal_id is not None
    undone = undo(db, applied.journal_id, providers, Settings())
    assert undone.journal_id is not None

    redone = undo(db, undone.journal_id, providers, Settings())

    assert (redone.status, redone.message) == (OutcomeStatus.DONE, "renamed on Strava")
    assert strava.activities["s1"].name == TYPED
    assert _proposals(db, activity_id) == Proposals((), ())
