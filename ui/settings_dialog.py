"""Settings: providers (connect and disconnect, priority by drag order, write-only flags), units,
home time zone for date-only records, sync interval, data folder, auto-approve rules.

The dialog edits a copy of `tracekit.settings.Settings`; the window saves the result with
`save_settings` on a worker thread.
"""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tracekit.changes import ChangeKind
from tracekit.providers.names import ProviderName
from tracekit.units import UnitSystem
from ui.backend import time_zones
from ui.icons import provider_icon
from ui.theme import ERROR_COLOR

if TYPE_CHECKING:
    from tracekit.settings import Settings

PROVIDERS_TAB, GENERAL_TAB, REVIEW_TAB = 0, 1, 2
CONNECTIONS = (
    ProviderName.GARMIN,
    ProviderName.STRAVA,
    ProviderName.RIDEWITHGPS,
    ProviderName.INTERVALSICU,
    ProviderName.SPREADSHEET,
)

AUTO_APPROVE_LABELS = {
    ChangeKind.RENAME: "Rename activities on providers",
    ChangeKind.SET_DESCRIPTION: "Set descriptions on providers",
    ChangeKind.SET_GEAR: "Set gear on providers",
    ChangeKind.ADD_TO_PROVIDER: "Upload files to providers that lack the activity",
    ChangeKind.DOWNLOAD_ORIGINAL: "Download original files into the archive",
}


class SettingsDialog(QDialog):
    connect_requested = Signal(object)  # ProviderName
    disconnect_requested = Signal(object)  # ProviderName

    def __init__(
        self,
        settings: "Settings",
        data_folder: Path,
        database: str,
        parent: QWidget | None = None,
        *,
        connected: frozenset[ProviderName] = frozenset(),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumSize(560, 460)
        self.original = settings
        self.tabs = QTabWidget()

        # providers
        providers = QWidget()
        p_layout = QVBoxLayout(providers)
        p_layout.addWidget(
            QLabel(
                "Drag to set which provider's value wins (top first). A write-only provider "
                "receives fixes but is never used as a source."
            )
        )
        p_layout.itemAt(0).widget().setWordWrap(True)  # type: ignore[union-attr]
        self.priority = QListWidget()
        self.priority.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.priority.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.priority.setAccessibleName("Provider priority")
        ordered = list(settings.provider_priority) + [
            p for p in ProviderName if p not in settings.provider_priority
        ]
        for provider in ordered:
            item = QListWidgetItem(provider_icon(provider.value, 16), provider.label)
            item.setData(Qt.ItemDataRole.UserRole, provider.value)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setCheckState(
                Qt.CheckState.Checked
                if provider in settings.write_only
                else Qt.CheckState.Unchecked
            )
            item.setToolTip("Checked: write-only (never a source of values)")
            self.priority.addItem(item)
        p_layout.addWidget(self.priority, 1)
        move = QHBoxLayout()
        up = QPushButton("Move up")
        down = QPushButton("Move down")
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        move.addWidget(up)
        move.addWidget(down)
        move.addStretch(1)
        move.addWidget(QLabel("☑ = write-only"))
        p_layout.addLayout(move)
        connections = QGroupBox("Connections")
        c_layout = QGridLayout(connections)
        c_layout.setColumnStretch(2, 1)
        self.connect_buttons: dict[ProviderName, QPushButton] = {}
        self.connection_states: dict[ProviderName, QLabel] = {}
        self.connected: set[ProviderName] = set(connected)
        for row, provider in enumerate(CONNECTIONS):
            icon = QLabel()
            icon.setPixmap(provider_icon(provider.value, 16).pixmap(16, 16))
            state = QLabel()
            button = QPushButton()
            button.setObjectName(f"connect-{provider.value}")
            button.clicked.connect(lambda _=False, p=provider: self._connect_clicked(p))
            self.connect_buttons[provider] = button
            self.connection_states[provider] = state
            c_layout.addWidget(icon, row, 0)
            c_layout.addWidget(QLabel(provider.label), row, 1)
            c_layout.addWidget(state, row, 2)
            c_layout.addWidget(button, row, 3)
            self._show_connection(provider)
        p_layout.addWidget(connections)
        self.tabs.addTab(providers, "Providers")

        # general
        general = QWidget()
        form = QFormLayout(general)
        self.units = QComboBox()
        self.units.addItem("Metric (km, m)", UnitSystem.METRIC.value)
        self.units.addItem("Imperial (mi, ft)", UnitSystem.IMPERIAL.value)
        self.units.setCurrentIndex(self.units.findData(settings.units.value))
        form.addRow("Units", self.units)
        self.home_zone = QComboBox()
        self.home_zone.setEditable(True)
        self.home_zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.home_zone.addItem("(none)", "")
        for zone in time_zones():
            self.home_zone.addItem(zone, zone)
        completer = QCompleter(QStringListModel(time_zones(), self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.home_zone.setCompleter(completer)
        self.home_zone.setCurrentIndex(
            max(0, self.home_zone.findData(settings.home_timezone or ""))
        )
        self.home_zone.setToolTip(
            "Used only for records that carry a date and no time (a spreadsheet's dates)"
        )
        form.addRow("Home time zone", self.home_zone)
        self.zone_error = QLabel("")
        self.zone_error.setStyleSheet(f"color: {ERROR_COLOR};")
        form.addRow("", self.zone_error)
        self.interval = QSpinBox()
        self.interval.setRange(5, 24 * 60)
        self.interval.setSuffix(" min")
        self.interval.setValue(settings.sync_interval_minutes)
        form.addRow("Background sync every", self.interval)
        folder = QHBoxLayout()
        self.folder = QLineEdit(str(data_folder))
        self.folder.setReadOnly(True)
        show = QPushButton("Show")
        show.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(data_folder))))
        folder.addWidget(self.folder, 1)
        folder.addWidget(show)
        form.addRow("Data folder", folder)
        db_label = QLabel(database)
        db_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        db_label.setWordWrap(True)
        form.addRow("Database", db_label)
        self.tabs.addTab(general, "General")

        # review
        review = QWidget()
        r_layout = QVBoxLayout(review)
        note = QLabel(
            "Tracekit never changes a provider without your approval. Rules below pre-check "
            "matching rows in the review dialog; you still press Apply. Off by default."
        )
        note.setWordWrap(True)
        r_layout.addWidget(note)
        self.auto_approve: dict[ChangeKind, QCheckBox] = {}
        for kind, label in AUTO_APPROVE_LABELS.items():
            box = QCheckBox(label)
            box.setChecked(kind.value in settings.auto_approve)
            self.auto_approve[kind] = box
            r_layout.addWidget(box)
        r_layout.addStretch(1)
        self.tabs.addTab(review, "Review")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

    def _show_connection(self, provider: ProviderName) -> None:
        button = self.connect_buttons[provider]
        self.connection_states[provider].setText(
            "Connected" if provider in self.connected else "Not connected"
        )
        if provider in self.connected:
            button.setText("Disconnect…")
            button.setToolTip(
                f"Forget the {provider.label} sign-in; its activities stay"
                + (
                    " (Strava's go, as its terms require)"
                    if provider is ProviderName.STRAVA
                    else ""
                )
            )
        else:
            button.setText("Connect…")
            button.setToolTip(f"Connect your {provider.label} account")

    def _connect_clicked(self, provider: ProviderName) -> None:
        if provider in self.connected:
            self.disconnect_requested.emit(provider)
        else:
            self.connect_requested.emit(provider)

    def set_connected(self, provider: ProviderName, connected: bool) -> None:
        """Show a connection made or removed while the dialog is open."""
        if connected:
            self.connected.add(provider)
        else:
            self.connected.discard(provider)
        self._show_connection(provider)

    def _move(self, step: int) -> None:
        row = self.priority.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.priority.count():
            return
        item = self.priority.takeItem(row)
        self.priority.insertItem(target, item)
        self.priority.setCurrentRow(target)

    def chosen_zone(self) -> str | None:
        text = self.home_zone.currentText().strip()
        if not text or text == "(none)":
            return None
        return text

    def _accept(self) -> None:
        zone = self.chosen_zone()
        if zone is not None and zone not in time_zones():
            self.zone_error.setText(f"Unknown time zone: {zone}")
            self.tabs.setCurrentIndex(GENERAL_TAB)
            return
        self.accept()

    def result_settings(self) -> "Settings":
        order = []
        write_only = set()
        for i in range(self.priority.count()):
            item = self.priority.item(i)
            provider = ProviderName(item.data(Qt.ItemDataRole.UserRole))
            order.append(provider)
            if item.checkState() == Qt.CheckState.Checked:
                write_only.add(provider)
        return replace(
            self.original,
            provider_priority=tuple(order),
            write_only=frozenset(write_only),
            units=UnitSystem(self.units.currentData()),
            home_timezone=self.chosen_zone(),
            sync_interval_minutes=self.interval.value(),
            auto_approve=frozenset(
                k.value for k, box in self.auto_approve.items() if box.isChecked()
            ),
        )
