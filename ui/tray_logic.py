"""What the tray and the background sync decide, with no Qt: menu entries, when each provider
is due, back-off, the tooltip, which events become notifications, what closing the window does.

`ui.tray` only turns these decisions into a QSystemTrayIcon, its menu and a QTimer, so
everything here is tested with plain values.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from tracekit.providers.names import ProviderName

# Providers that sync from a service (the file provider is fed by imports only).
SYNCABLE = frozenset(
    {
        ProviderName.GARMIN,
        ProviderName.STRAVA,
        ProviderName.RIDEWITHGPS,
        ProviderName.INTERVALSICU,
        ProviderName.SPREADSHEET,
    }
)
MIN_CHECK = timedelta(seconds=30)
COALESCE_AFTER = 4  # more new events than this become one summary message


class ProviderLike(Protocol):
    """What the controller reads of a provider row (`tracekit.stats.ProviderRow`)."""

    @property
    def provider(self) -> ProviderName: ...

    @property
    def state(self) -> str: ...

    @property
    def last_sync_at(self) -> datetime | None: ...

    @property
    def rate_limited_until(self) -> datetime | None: ...

    @property
    def error(self) -> str | None: ...

    @property
    def connected(self) -> bool: ...

    def describe(self, now: datetime) -> str: ...


class NotificationLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def level(self) -> str: ...

    @property
    def message(self) -> str: ...


class TrayAction(StrEnum):
    OPEN = "open"
    SYNC = "sync"
    PAUSE = "pause"
    QUIT = "quit"


@dataclass(frozen=True, slots=True)
class MenuItem:
    action: TrayAction
    text: str
    enabled: bool = True
    checkable: bool = False
    checked: bool = False
    tooltip: str = ""


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TrayMessage:
    title: str
    body: str
    level: Level = Level.INFO


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the app knows after a refresh: counts and each provider's row."""

    activities: int
    proposals: int | None  # None when proposals are not computed in this build
    providers: Sequence[ProviderLike] = ()
    notifications: Sequence[NotificationLike] = ()  # newest first


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        return Level.INFO


class CloseDecision(StrEnum):
    HIDE_TO_TRAY = "hide"
    QUIT = "quit"


ATTENTION_STATES = frozenset({"reconnect_needed", "error"})


@dataclass
class TrayController:
    interval_minutes: int
    sync_available: bool
    tray_available: bool
    hint_shown: bool = False
    paused: bool = False
    syncing: bool = False
    anything_connected: bool = True  # a provider to sync (the window says after each overview)
    last_attempt: dict[ProviderName, datetime] = field(default_factory=dict)
    _baseline: Snapshot | None = None
    _seen_notification: int = 0

    # -- menu
    def menu(self) -> list[MenuItem]:
        sync_tip = "" if self.sync_available else "Waiting for the database to open"
        return [
            MenuItem(TrayAction.OPEN, "Open Tracekit"),
            MenuItem(
                TrayAction.SYNC,
                "Syncing…" if self.syncing else "Sync now",
                enabled=self.sync_available and self.anything_connected and not self.syncing,
                tooltip=sync_tip
                or ("" if self.anything_connected else "Connect a provider in Settings first"),
            ),
            MenuItem(
                TrayAction.PAUSE,
                "Pause background sync",
                enabled=self.sync_available,
                checkable=True,
                checked=self.paused,
                tooltip=sync_tip,
            ),
            MenuItem(TrayAction.QUIT, "Quit"),
        ]

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def set_interval(self, minutes: int) -> None:
        self.interval_minutes = max(1, minutes)

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=max(1, self.interval_minutes))

    # -- scheduling
    def _last(self, row: ProviderLike) -> datetime | None:
        times = [t for t in (self.last_attempt.get(row.provider), row.last_sync_at) if t]
        return max(times) if times else None

    def _eligible(self, row: ProviderLike, now: datetime) -> bool:
        if row.provider not in SYNCABLE or not row.connected:
            return False
        if str(row.state) == "reconnect_needed":  # only the user can fix that
            return False
        return not (row.rate_limited_until is not None and row.rate_limited_until > now)

    def due_providers(self, now: datetime, rows: Iterable[ProviderLike]) -> list[ProviderName]:
        """Providers to sync now: connected, not waiting out a rate limit, interval elapsed."""
        if self.paused or not self.sync_available or self.syncing:
            return []
        due = []
        for row in rows:
            if not self._eligible(row, now):
                continue
            last = self._last(row)
            if last is None or now - last >= self.interval:
                due.append(row.provider)
        return due

    def next_check_in(self, now: datetime, rows: Iterable[ProviderLike]) -> timedelta:
        """How long to wait before asking `due_providers` again (back-off included)."""
        waits = []
        for row in rows:
            if row.provider not in SYNCABLE or not row.connected:
                continue
            if str(row.state) == "reconnect_needed":  # waits for the user, not for a timer
                continue
            if row.rate_limited_until is not None and row.rate_limited_until > now:
                waits.append(row.rate_limited_until - now)
                continue
            last = self._last(row)
            waits.append(timedelta() if last is None else (last + self.interval) - now)
        wait = min(waits, default=self.interval)
        return min(max(wait, MIN_CHECK), self.interval)

    def sync_started(self, providers: Iterable[ProviderName], now: datetime) -> None:
        self.syncing = True
        for provider in providers:
            self.last_attempt[provider] = now

    def sync_finished(self) -> None:
        self.syncing = False

    # -- tooltip
    def tooltip(self, rows: Iterable[ProviderLike], now: datetime) -> str:
        lines = ["Tracekit"]
        for row in rows:
            if row.provider in SYNCABLE and (row.connected or row.last_sync_at is not None):
                lines.append(f"{row.provider.label}: {row.describe(now)}")
        if self.syncing:
            lines.append("Syncing…")
        elif self.paused:
            lines.append("Background sync paused")
        elif not self.sync_available:
            lines.append("Opening the database…")
        return "\n".join(lines)

    # -- notifications
    def observe(self, snapshot: Snapshot) -> list[TrayMessage]:
        """Messages for what changed since the previous snapshot (none for the first one)."""
        previous, self._baseline = self._baseline, snapshot
        newest_id = max((n.id for n in snapshot.notifications), default=0)
        if previous is None:
            self._seen_notification = max(self._seen_notification, newest_id)
            return []
        events: list[TrayMessage] = []
        added = snapshot.activities - previous.activities
        if added > 0:
            noun = "activity" if added == 1 else "activities"
            events.append(TrayMessage("New activities", f"{added} new {noun} in your calendar"))
        if (
            snapshot.proposals is not None
            and previous.proposals is not None
            and snapshot.proposals > previous.proposals
        ):
            more = snapshot.proposals - previous.proposals
            noun = "change" if more == 1 else "changes"
            events.append(TrayMessage("Changes to review", f"{more} proposed {noun} to review"))
        before = {row.provider: str(row.state) for row in previous.providers}
        for row in snapshot.providers:
            state = str(row.state)
            if state in ATTENTION_STATES and before.get(row.provider) != state:
                why = "reconnect needed" if state == "reconnect_needed" else (row.error or "error")
                events.append(
                    TrayMessage(f"{row.provider.label} needs attention", why, Level.WARNING)
                )
        for note in sorted(snapshot.notifications, key=lambda n: n.id):
            if note.id > self._seen_notification:
                events.append(TrayMessage("Tracekit", note.message, _level(note.level)))
        self._seen_notification = max(self._seen_notification, newest_id)
        if len(events) > COALESCE_AFTER:
            worst = max(
                (e.level for e in events), key=[Level.INFO, Level.WARNING, Level.ERROR].index
            )
            return [TrayMessage("Tracekit", f"{len(events)} new events — open Tracekit", worst)]
        return events

    # -- closing the window
    def on_close(self) -> tuple[CloseDecision, bool]:
        """What closing the main window does, and whether to show the first-time hint."""
        if not self.tray_available:
            return CloseDecision.QUIT, False
        show_hint = not self.hint_shown
        self.hint_shown = True
        return CloseDecision.HIDE_TO_TRAY, show_hint
