"""Choosing a record of another activity to link to the selected one."""

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracekit.units import format_distance, format_duration
from ui.icons import provider_icon

if TYPE_CHECKING:
    from tracekit.stats import LinkCandidate


class LinkDialog(QDialog):
    """Lists records within a day of the activity; the chosen one's id is `chosen`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Link to another record")
        self.setMinimumSize(520, 360)
        self.chosen: int | None = None
        self.list = QListWidget()
        self.list.setAccessibleName("Records near this activity")
        self.list.itemDoubleClicked.connect(lambda _item: self._accept())
        self.note = QLabel("Loading records near this activity…")
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Link")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)

    def set_candidates(self, candidates: "tuple[LinkCandidate, ...]") -> None:
        self.list.clear()
        for c in candidates:
            when = f"{c.start_local:%Y-%m-%d %H:%M}" if c.start_local else "no time"
            numbers = " · ".join(
                t
                for t in (
                    format_distance(c.distance_m) if c.distance_m else "",
                    format_duration(c.elapsed_s) if c.elapsed_s else "",
                )
                if t
            )
            text = f"{when}  {c.provider.label}: {c.name or c.sport.value}  {numbers}"
            item = QListWidgetItem(provider_icon(c.provider.value, 16), text)
            item.setData(Qt.ItemDataRole.UserRole, c.record_id)
            self.list.addItem(item)
        self.note.setText(
            "Choose the record that belongs to this activity. Your decision wins over the "
            "matcher from now on."
            if candidates
            else "No other records within a day of this activity."
        )

    def _accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen = int(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
