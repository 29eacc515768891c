"""The review dialog with the real proposals and the real `tracekit.apply`, against providers
kept in memory (fakes of the services): exactly what is checked is sent, failures show as
failed, cancel skips the rest, closing without applying writes nothing."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from tests.fakes import Call, MemoryProvider, add_activity, record, remote
from tracekit.changes import ChangeKind
from tracekit.proposals import propose
from tracekit.providers.base import Capability, ProviderError
from tracekit.providers.names import ProviderName
from tracekit.settings import Settings
from tracekit.store.engine import Database
from tracekit.store.models import JournalEntry
from ui.backend import Connections, ReviewScope
from ui.diff_dialog import DiffDialog, backend_review
from ui.journal_window import JournalWindow, backend_journal
from ui.workers import TaskHandle

GARMIN, STRAVA = ProviderName.GARMIN, ProviderName.STRAVA
EDIT = frozenset({Capability.READ, Capability.RENAME, Capability.SET_DESCRIPTION})
NAMES = ["Col de Rates", "Els Àngels", "Coast and back"]
MAY = ReviewScope("May 2026", date(2026, 5, 1), date(2026, 5, 31))


class Services:
    """Three rides whose Strava copies carry generic names: three renames to propose."""

    def __init__(self, db: Database) -> None:
        self.garmin = MemoryProvider(GARMIN, EDIT)
        self.strava = MemoryProvider(STRAVA, EDIT)
        self.activity_ids: list[int] = []
        with db.session() as session:
            for day, name in enumerate(NAMES):
                start = datetime(2026, 5, 3 + day, 7, 0, tzinfo=UTC)
                g = record(GARMIN, f"g{day}", name=name, start_utc=start)
                s = record(
                    STRAVA, f"s{day}", name="Morning Ride", start_utc=start + timedelta(seconds=4)
                )
                self.activity_ids.append(add_activity(session, g, s).id)
                self.garmin.activities[g.provider_id] = remote(g)
                self.strava.activities[s.provider_id] = remote(s)

    def connections(self, _db: Database) -> Connections:
        return Connections({GARMIN: self.garmin, STRAVA: self.strava})

    @property
    def capabilities(self) -> dict[ProviderName, frozenset[Capability]]:
        return {GARMIN: EDIT, STRAVA: EDIT}


def _dialog(
    qtbot: QtBot, db: Database, services: Services, settings: Settings | None = None
) -> DiffDialog:
    settings = settings or Settings()
    dialog = DiffDialog(MAY, settings, backend_review(db, settings, services.connections))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.load()
    return dialog


def _renames(calls: list[Call]) -> list[tuple[object, ...]]:
    return [c.args for c in calls if c.method == "rename"]


def _journal(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def test_shows_exactly_the_proposals_and_nothing_is_checked(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    with db.session() as session:
        expected = propose(session, services.activity_ids, Settings(), services.capabilities)
    assert [c.kind for c in expected] == [ChangeKind.RENAME] * 3
    assert dialog.change_ids() == [c.id for c in expected]
    assert dialog.checked_ids() == []
    assert not dialog.apply_button.isEnabled()
    # grouped by activity, each change with every provider's current value side by side
    assert dialog.tree.topLevelItemCount() == 3
    row = dialog.rows[expected[0].id]
    headers = [dialog.tree.headerItem().text(i) for i in range(dialog.tree.columnCount())]
    assert headers == ["Change", "On", "Proposed", "From", "Result", "Garmin Connect", "Strava"]
    assert [row.text(i) for i in range(7)] == [
        "Name",
        "Strava",
        "Col de Rates",
        "Garmin Connect",
        "",
        "Col de Rates",
        "Morning Ride",
    ]


def test_auto_approve_rules_pre_check_their_kind(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services, Settings(auto_approve=frozenset({"rename"})))
    assert dialog.checked_ids() == dialog.change_ids()


def test_approving_two_applies_exactly_those_two(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    first, second, third = dialog.change_ids()
    dialog.set_checked(first, True)
    dialog.set_checked(third, True)
    assert dialog.apply_button.text() == "Apply 2 changes"
    with qtbot.waitSignal(dialog.applied, timeout=20_000) as applied:
        dialog.apply()
    assert [o.change_id for o in applied.args[0]] == [first, third]
    assert _renames(services.strava.writes) == [("s0", "Col de Rates"), ("s2", "Coast and back")]
    assert services.garmin.writes == []
    assert dialog.result_text(first).startswith("✓ Done")
    assert dialog.result_text(third).startswith("✓ Done")
    assert dialog.result_text(second) == ""  # unchecked: never sent, never claimed
    assert _journal(db) == 2
    qtbot.waitUntil(lambda: not dialog.cancel_button.isVisible())
    assert not dialog.apply_button.isEnabled()  # applied once; review again for more


def test_a_failing_change_shows_failed_with_the_providers_message(
    qtbot: QtBot, db: Database
) -> None:
    services = Services(db)
    services.strava.fail_next("rename", ProviderError(STRAVA, "activity is private"))
    dialog = _dialog(qtbot, db, services)
    first, second, _third = dialog.change_ids()
    dialog.set_checked(first, True)
    dialog.set_checked(second, True)
    with qtbot.waitSignal(dialog.applied, timeout=20_000):
        dialog.apply()
    assert dialog.result_text(first) == "✗ Failed: Strava: activity is private"
    assert dialog.result_text(second).startswith("✓ Done")
    assert "Done" not in dialog.result_text(first)
    assert dialog.headline.text() == "Applied: 1 done, 1 failed, 0 skipped"


def test_cancel_mid_apply_skips_the_rest(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    for change in dialog.change_ids():
        dialog.set_checked(change, True)

    started = threading.Event()
    handles: list[TaskHandle] = []

    def cancel_after_first_write(_call: Call) -> None:
        # runs on the worker thread, while the first change is being sent
        started.wait(10)
        handles[0].cancel()
        services.strava.before_write = None

    services.strava.before_write = cancel_after_first_write
    with qtbot.waitSignal(dialog.applied, timeout=20_000) as applied:
        handle = dialog.apply()
        assert handle is not None
        handles.append(handle)
        started.set()
    statuses = [str(o.status) for o in applied.args[0]]
    assert statuses == ["done", "skipped", "skipped"]
    first, second, third = dialog.change_ids()
    assert dialog.result_text(first).startswith("✓ Done")
    assert dialog.result_text(second).startswith("Skipped")
    assert dialog.result_text(third).startswith("Skipped")
    assert len(_renames(services.strava.writes)) == 1
    assert _journal(db) == 1


def test_closing_without_applying_writes_nothing(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    for change in dialog.change_ids():
        dialog.set_checked(change, True)
    dialog.close()
    assert services.strava.writes == [] and services.garmin.writes == []
    assert _journal(db) == 0


def test_select_all_of_a_type_and_select_none(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    assert dialog.kind_choice.currentText() == "Renames (3)"
    dialog.select_kind.click()
    assert dialog.checked_ids() == dialog.change_ids()
    dialog.select_none.click()
    assert dialog.checked_ids() == []


@pytest.mark.parametrize("scope_ids", [True, False])
def test_scope_of_selected_activities_or_range(qtbot: QtBot, db: Database, scope_ids: bool) -> None:
    services = Services(db)
    scope = (
        ReviewScope("the selected activity", activity_ids=(services.activity_ids[1],))
        if scope_ids
        else ReviewScope("4 May", date(2026, 5, 4), date(2026, 5, 4))
    )
    dialog = DiffDialog(scope, Settings(), backend_review(db, Settings(), services.connections))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.load()
    assert len(dialog.change_ids()) == 1
    (change,) = dialog.changes.values()
    assert change.activity_id == services.activity_ids[1]


def test_the_journal_lists_what_was_sent_and_undo_writes_the_old_value_back(
    qtbot: QtBot, db: Database
) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    first = dialog.change_ids()[0]
    dialog.set_checked(first, True)
    with qtbot.waitSignal(dialog.applied, timeout=20_000):
        dialog.apply()
    window = JournalWindow(backend_journal(db, Settings(), services.connections))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.load()
    (line,) = window.lines
    assert (line.old_value, line.new_value, str(line.state)) == (
        "Morning Ride",
        "Col de Rates",
        "done",
    )
    item = window.tree.topLevelItem(0)
    assert [item.text(i) for i in (1, 2, 3, 4)] == [
        "Strava",
        "Rename",
        "Morning Ride",
        "Col de Rates",
    ]
    assert list(window.undo_buttons) == [line.id]
    with qtbot.waitSignal(window.undone, timeout=20_000) as undone:
        window.undo_buttons[line.id].click()
    assert str(undone.args[0].status) == "done"
    assert _renames(services.strava.writes)[-1] == ("s0", "Morning Ride")
    qtbot.waitUntil(lambda: len(window.lines) == 2)
    assert line.id not in window.undo_buttons  # the undone change cannot be undone twice
    assert window.message.text().startswith("Undone")


def _no_request(services: Services) -> bool:
    return services.strava.calls == [] and services.garmin.calls == []


def test_dont_propose_again_hides_the_checked_change_sends_nothing_and_can_be_undone(
    qtbot: QtBot, db: Database
) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    first, second, third = dialog.change_ids()
    assert not dialog.show_dismissed.isVisible()
    dialog.set_checked(second, True)
    assert dialog.dismiss_button.isEnabled()

    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.dismiss_button.click()

    assert dialog.change_ids() == [first, third]
    assert dialog.tree.topLevelItemCount() == 2
    assert _no_request(services) and _journal(db) == 0
    with db.session() as session:
        proposed = propose(session, services.activity_ids, Settings(), services.capabilities)
    assert [c.id for c in proposed] == [first, third]
    # the dismissed change is listed on request, with "Propose again"
    assert dialog.show_dismissed.isVisible()
    assert dialog.show_dismissed.text() == "Show dismissed (1)"
    assert not dialog.dismissed_tree.isVisible()
    dialog.show_dismissed.click()
    assert dialog.dismissed_tree.isVisible()
    item = dialog.dismissed_tree.topLevelItem(0)
    assert [item.text(i) for i in (0, 2, 3)] == ["Name", "Strava", "Els Àngels"]
    assert item.text(1).endswith("· Els Àngels")
    button = dialog.restore_buttons[second]
    assert button.text() == "Propose again"
    qtbot.waitUntil(button.isEnabled)  # once the reload has finished

    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        button.click()

    assert dialog.change_ids() == [first, second, third]
    assert dialog.checked_ids() == []
    assert not dialog.show_dismissed.isVisible() and not dialog.dismissed_tree.isVisible()
    assert _no_request(services) and _journal(db) == 0


def test_dismissing_one_row_keeps_the_other_rows_checked(qtbot: QtBot, db: Database) -> None:
    services = Services(db)
    dialog = _dialog(qtbot, db, services)
    first, second, third = dialog.change_ids()
    dialog.set_checked(first, True)

    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.dismiss([third])  # what the context menu of an unchecked row does

    assert dialog.change_ids() == [first, second]
    assert dialog.checked_ids() == [first]
    qtbot.waitUntil(dialog.apply_button.isEnabled)
    assert dialog.apply_button.text() == "Apply 1 change"
    assert _no_request(services)
