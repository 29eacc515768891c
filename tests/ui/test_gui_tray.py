"""The tray's decisions (menu, intervals, back-off, notifications, closing) as plain values,
and the no-tray path the offscreen platform takes."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from tracekit.providers.names import ProviderName
from tracekit.stats import NotificationItem, ProviderRow
from tracekit.store.engine import Database
from tracekit.store.models import ProviderState
from ui.tray import create_tray, tray_available
from ui.tray_logic import (
    MIN_CHECK,
    CloseDecision,
    Level,
    Snapshot,
    TrayAction,
    TrayController,
    TrayMessage,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
GARMIN, STRAVA, ICU = ProviderName.GARMIN, ProviderName.STRAVA, ProviderName.INTERVALSICU


def row(
    provider: ProviderName,
    state: ProviderState = ProviderState.OK,
    *,
    last_sync: datetime | None = None,
    limited_until: datetime | None = None,
    error: str | None = None,
    configured: bool = True,
) -> ProviderRow:
    return ProviderRow(
        provider=provider,
        records=10,
        state=state,
        last_sync_at=last_sync,
        last_success_at=last_sync,
        rate_limited_until=limited_until,
        error=error,
        configured=configured,
    )


def note(id: int, message: str, level: str = "info") -> NotificationItem:
    return NotificationItem(id, NOW, level, message, None, False)


def controller(**options: object) -> TrayController:
    values: dict[str, object] = {
        "interval_minutes": 30,
        "sync_available": True,
        "tray_available": True,
    }
    values.update(options)
    return TrayController(**values)  # type: ignore[arg-type]


def test_menu_has_open_sync_pause_quit_and_reflects_state() -> None:
    tray = controller()
    assert [(i.action, i.text, i.enabled) for i in tray.menu()] == [
        (TrayAction.OPEN, "Open Tracekit", True),
        (TrayAction.SYNC, "Sync now", True),
        (TrayAction.PAUSE, "Pause background sync", True),
        (TrayAction.QUIT, "Quit", True),
    ]
    tray.set_paused(True)
    tray.sync_started([GARMIN], NOW)
    items = {i.action: i for i in tray.menu()}
    assert items[TrayAction.PAUSE].checked
    assert (items[TrayAction.SYNC].text, items[TrayAction.SYNC].enabled) == ("Syncing…", False)
    without = controller(sync_available=False)
    items = {i.action: i for i in without.menu()}
    assert not items[TrayAction.SYNC].enabled and items[TrayAction.SYNC].tooltip
    unconnected = controller(anything_connected=False)
    items = {i.action: i for i in unconnected.menu()}
    assert not items[TrayAction.SYNC].enabled
    assert items[TrayAction.SYNC].tooltip == "Connect a provider in Settings first"


def test_the_tray_offers_sync_only_once_a_provider_is_connected(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url, tray_check=lambda: True)  # type: ignore[operator]
    assert window.tray is not None
    qtbot.waitUntil(lambda: window.last_overview is not None)
    assert not window.tray.actions[TrayAction.SYNC].isEnabled()  # nothing connected yet


def test_due_providers_respect_the_interval_back_off_and_pause() -> None:
    tray = controller(interval_minutes=30)
    rows = [
        row(GARMIN, last_sync=NOW - timedelta(minutes=31)),  # due
        row(
            STRAVA,
            ProviderState.RATE_LIMITED,
            last_sync=NOW - timedelta(hours=3),
            limited_until=NOW + timedelta(minutes=20),
        ),  # backing off
        row(ICU, last_sync=NOW - timedelta(minutes=5)),  # synced recently
        row(ProviderName.RIDEWITHGPS, ProviderState.RECONNECT_NEEDED),  # needs the user
        row(ProviderName.SPREADSHEET, configured=False),  # not connected
        row(ProviderName.FILE, last_sync=None),  # never synced: files are imported
    ]
    assert tray.due_providers(NOW, rows) == [GARMIN]
    # the wait until the next check: ICU is due in 25 min, Strava free in 20 → 20 min
    tray.sync_started([GARMIN], NOW)
    tray.sync_finished()
    assert tray.next_check_in(NOW, rows) == timedelta(minutes=20)
    # after the back-off Strava is due again
    later = NOW + timedelta(minutes=21)
    assert tray.due_providers(later, rows) == [STRAVA]
    tray.set_paused(True)
    assert tray.due_providers(later, rows) == []
    tray.set_paused(False)
    tray.sync_started([STRAVA], later)
    assert tray.due_providers(later, rows) == []  # one sync at a time


def test_next_check_is_bounded_and_interval_changes_apply() -> None:
    tray = controller(interval_minutes=60)
    never = [row(GARMIN, last_sync=None)]
    assert tray.next_check_in(NOW, never) == MIN_CHECK
    assert tray.due_providers(NOW, never) == [GARMIN]
    assert tray.next_check_in(NOW, []) == timedelta(minutes=60)
    tray.set_interval(10)
    fresh = [row(GARMIN, last_sync=NOW - timedelta(minutes=4))]
    assert tray.next_check_in(NOW, fresh) == timedelta(minutes=6)


def test_notifications_for_new_activities_changes_attention_and_rows() -> None:
    tray = controller()
    first = Snapshot(100, 2, [row(GARMIN), row(STRAVA)], [note(7, "old news")])
    assert tray.observe(first) == []  # the first look is the baseline, nothing old is shown
    second = Snapshot(
        103,
        5,
        [row(GARMIN, ProviderState.RECONNECT_NEEDED), row(STRAVA)],
        [note(8, "intervals.icu: syncing again."), note(7, "old news")],
    )
    messages = tray.observe(second)
    assert messages == [
        TrayMessage("New activities", "3 new activities in your calendar"),
        TrayMessage("Changes to review", "3 proposed changes to review"),
        TrayMessage("Garmin Connect needs attention", "reconnect needed", Level.WARNING),
        TrayMessage("Tracekit", "intervals.icu: syncing again."),
    ]
    assert tray.observe(second) == []  # nothing new twice
    error = Snapshot(
        103,
        5,
        [
            row(GARMIN, ProviderState.RECONNECT_NEEDED),
            row(STRAVA, ProviderState.ERROR, error="Strava: 500"),
        ],
        [],
    )
    assert tray.observe(error) == [
        TrayMessage("Strava needs attention", "Strava: 500", Level.WARNING)
    ]


def test_many_events_become_one_message() -> None:
    tray = controller()
    tray.observe(Snapshot(0, None, [], []))
    burst = Snapshot(
        1, None, [], [note(i, f"event {i}", "error" if i == 3 else "info") for i in range(1, 6)]
    )
    (message,) = tray.observe(burst)
    assert message.body == "6 new events — open Tracekit" and message.level is Level.ERROR


def test_tooltip_lists_connected_providers() -> None:
    tray = controller()
    text = tray.tooltip(
        [
            row(GARMIN, last_sync=NOW - timedelta(days=3)),
            row(STRAVA, ProviderState.RATE_LIMITED, limited_until=NOW + timedelta(hours=1)),
            row(ICU, configured=False),
        ],
        NOW,
    )
    lines = text.splitlines()
    assert lines[0] == "Tracekit"
    assert lines[1].startswith("Garmin Connect: Last sync ")
    assert lines[2].startswith("Strava: Rate-limited until ")
    assert len(lines) == 3
    tray.set_paused(True)
    assert tray.tooltip([], NOW).endswith("Background sync paused")


def test_closing_hides_to_the_tray_once_with_a_hint_and_quits_without_a_tray() -> None:
    tray = controller(tray_available=True)
    assert tray.on_close() == (CloseDecision.HIDE_TO_TRAY, True)
    assert tray.on_close() == (CloseDecision.HIDE_TO_TRAY, False)
    assert controller(tray_available=False).on_close() == (CloseDecision.QUIT, False)


def test_offscreen_has_no_tray_and_the_window_quits_on_close(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    assert not tray_available() and not QSystemTrayIcon.isSystemTrayAvailable()
    assert create_tray(controller(tray_available=False), None, lambda _a: None) is None  # type: ignore[arg-type]
    window = open_window(db.url, tray_check=tray_available)  # type: ignore[operator]
    assert window.tray is None
    window.close()
    assert not window.isVisible()
    assert window.db is None  # shut down: tasks awaited, database closed


def test_with_a_tray_closing_hides_the_window_and_the_menu_acts(
    qtbot: QtBot, db: Database, open_window: object
) -> None:
    window = open_window(db.url, tray_check=lambda: True)  # type: ignore[operator]
    assert window.tray is not None
    window.close()
    assert not window.isVisible() and window.db is not None  # still running in the tray
    assert window.controller.hint_shown
    window.tray.actions[TrayAction.OPEN].trigger()
    assert window.isVisible()
    window.tray.actions[TrayAction.PAUSE].trigger()
    assert window.controller.paused == window.sync_available


@dataclass
class _Calls:
    actions: list[str]


def test_tray_action_signal_reaches_the_handler(qtbot: QtBot) -> None:
    calls = _Calls([])
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    tray = create_tray(controller(), parent, calls.actions.append, available=lambda: True)
    assert tray is not None
    tray.actions[TrayAction.SYNC].trigger()
    tray.actions[TrayAction.QUIT].trigger()
    assert calls.actions == ["sync", "quit"]
    tray.hide()
