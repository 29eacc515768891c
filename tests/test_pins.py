"""A pinned value beats every provider, shows in the calendar, and is proposed everywhere."""

from tests.fakes import add_activity, record
from tracekit.changes import ChangeKind, Field
from tracekit.pins import pin_value, pinned, unpin
from tracekit.proposals import propose
from tracekit.providers.base import Capability
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import Activity


def test_a_pinned_name_wins_is_shown_and_proposed_then_unpinning_restores(db: Database) -> None:
    with db.session() as session:
        activity_id = add_activity(
            session,
            record(ProviderName.SPREADSHEET, "row-1", name="Coast loop"),
            record(ProviderName.GARMIN, "g1", name="Coast loop"),
        ).id
    pin_value(db, activity_id, Field.NAME, "  Coast loop with Anna ")
    assert pinned(db, activity_id) == {Field.NAME: "Coast loop with Anna"}
    with db.session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None and activity.name == "Coast loop with Anna"
        caps = {ProviderName.GARMIN: frozenset({Capability.READ, Capability.RENAME})}
        changes = propose(session, [activity_id], Settings(), caps)
    (rename,) = [c for c in changes if c.kind is ChangeKind.RENAME]
    assert (rename.new_value, rename.source) == ("Coast loop with Anna", "pinned")
    unpin(db, activity_id, Field.NAME)
    with db.session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None and activity.name == "Coast loop"
