"""The provider panel: each provider's state (connected, last sync, syncing with progress,
rate-limited until HH:MM, reconnect needed, error with its message) and the one action it
needs: Sync, or Connect… / Reconnect…, which open the provider's connect dialog."""

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from tracekit.providers.names import ProviderName
from ui.icons import draw_badge
from ui.theme import ERROR_COLOR, OK_COLOR, REVIEW_COLOR

if TYPE_CHECKING:
    from tracekit.stats import ProviderRow


class Badge(QWidget):
    def __init__(
        self, provider: ProviderName, size: int = 18, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.provider = provider
        self.setFixedSize(size, size)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        draw_badge(painter, QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), self.provider)
        painter.end()


class RowAction(Enum):
    SYNC = "Sync"
    CONNECT = "Connect…"
    RECONNECT = "Reconnect…"


class ProviderRowWidget(QFrame):
    sync_requested = Signal(object)  # ProviderName
    connect_requested = Signal(object)  # ProviderName: connect, or sign in again

    def __init__(self, provider: ProviderName, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider = provider
        self.setObjectName(f"provider-{provider.value}")
        self.name = QLabel(provider.label)
        bold = QFont(self.name.font())
        bold.setBold(True)
        self.name.setFont(bold)
        self.name.setWordWrap(True)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        small = QFont(self.state.font())
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.state.setFont(small)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.action = RowAction.SYNC
        self.action_button = QPushButton(self.action.value)
        self.action_button.clicked.connect(self._act)
        self.action_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_action(RowAction.SYNC)
        if provider is ProviderName.FILE:
            self.action_button.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 6, 8, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.addWidget(Badge(provider), 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.name, 0, 1)
        grid.addWidget(self.action_button, 0, 2, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.state, 1, 1)
        grid.addWidget(self.progress, 2, 1, 1, 2)
        grid.setColumnStretch(1, 1)

    def set_action(self, action: RowAction) -> None:
        self.action = action
        self.action_button.setText(action.value)
        verb = action.value.removesuffix("…")
        self.action_button.setAccessibleName(f"{verb} {self.provider.label}")

    def _act(self) -> None:
        if self.action is RowAction.SYNC:
            self.sync_requested.emit(self.provider)
        else:
            self.connect_requested.emit(self.provider)

    def show_row(self, row: "ProviderRow", now: datetime) -> None:
        from tracekit.store.models import ProviderState

        text = row.describe(now)
        if row.simulated:
            text = f"Simulated (demo) · {text[0].lower()}{text[1:]}"
        color = ""
        if row.rate_limited(now) or row.state is ProviderState.RECONNECT_NEEDED:
            color = REVIEW_COLOR
        elif row.state is ProviderState.ERROR:
            color = ERROR_COLOR
        elif row.state is ProviderState.OK:
            color = OK_COLOR
        self.state.setText(text)
        self.state.setToolTip(row.error or text)
        self.state.setStyleSheet(f"color: {color};" if color else "")
        self.setToolTip(f"{row.provider.label}: {text} ({row.records} records)")

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.show()
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.state.setText(text or "Syncing…")
        self.state.setStyleSheet("")

    def hide_progress(self) -> None:
        self.progress.hide()


class ProviderPanel(QWidget):
    """The column of providers; asks the window to sync or connect one of them."""

    sync_requested = Signal(object)  # ProviderName
    connect_requested = Signal(object)  # ProviderName

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[ProviderName, ProviderRowWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 8)
        layout.setSpacing(2)
        heading = QLabel("Providers")
        font = QFont(heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        heading.setFont(font)
        heading.setContentsMargins(10, 0, 10, 4)
        layout.addWidget(heading)
        for provider in ProviderName:
            row = ProviderRowWidget(provider, self)
            row.sync_requested.connect(self.sync_requested)
            row.connect_requested.connect(self.connect_requested)
            self.rows[provider] = row
            layout.addWidget(row)
        layout.addStretch(1)
        self.set_sync_available(False, "Waiting for the database to open")

    def sizeHint(self) -> QSize:
        return QSize(230, 400)

    def set_rows(self, rows: "tuple[ProviderRow, ...]", now: datetime | None = None) -> None:
        from tracekit.store.models import ProviderState

        now = now or datetime.now(UTC)
        for row in rows:
            widget = self.rows.get(row.provider)
            if widget is None:
                continue
            widget.show_row(row, now)
            label = row.provider.label
            if not row.connected:
                widget.set_action(RowAction.CONNECT)
                tip = f"Connect your {label} account"
            elif row.state is ProviderState.RECONNECT_NEEDED and not row.simulated:
                widget.set_action(RowAction.RECONNECT)
                tip = f"Sign in to {label} again"
            else:
                widget.set_action(RowAction.SYNC)
                tip = f"Sync {label} now"
            widget.action_button.setEnabled(self._sync_available)
            widget.action_button.setToolTip(tip if self._sync_available else self._reason)

    def set_sync_available(self, available: bool, reason: str = "") -> None:
        """Whether the window can act yet (its database is open); each row's action is chosen
        by `set_rows` once the provider rows are known."""
        self._sync_available = available
        self._reason = reason
        for widget in self.rows.values():
            widget.action_button.setEnabled(False)
            widget.action_button.setToolTip(reason if not available else "Checking the connection…")
