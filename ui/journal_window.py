"""The journal: every change Tracekit sent, newest first, with Undo where it is allowed."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.diff_dialog import KIND_LABELS
from ui.icons import provider_icon
from ui.theme import ERROR_COLOR, OK_COLOR
from ui.workers import TaskContext, TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tracekit.settings import Settings
    from tracekit.store.engine import Database
    from ui.backend import ConnectionsFactory

IdRole = Qt.ItemDataRole.UserRole + 1
STATE_COLORS = {"done": OK_COLOR, "failed": ERROR_COLOR}


@dataclass(frozen=True, slots=True)
class JournalService:
    load: Callable[[TaskContext], list[Any]]  # → tracekit.journal.JournalLine, newest first
    undo: Callable[[int, TaskContext], Any]  # → tracekit.apply.ApplyOutcome


def backend_journal(
    db: "Database", settings: "Settings", factory: "ConnectionsFactory"
) -> JournalService:
    from ui import backend

    return JournalService(
        load=lambda _ctx: backend.load_journal(db),
        undo=lambda journal_id, _ctx: backend.undo_entry(db, journal_id, settings, factory),
    )


class JournalWindow(QDialog):
    undone = Signal(object)  # ApplyOutcome
    loaded = Signal(object)

    def __init__(
        self,
        service: JournalService,
        runner: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner or TaskRunner(parent=self)  # owned by a Qt object, see TaskRunner
        self.lines: list[Any] = []
        self.undo_buttons: dict[int, QPushButton] = {}
        self.setWindowTitle("Journal — what Tracekit changed")
        self.resize(980, 520)
        self.headline = QLabel("Loading the journal…")
        font = QFont(self.headline.font())
        font.setBold(True)
        self.headline.setFont(font)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Journal")
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(["When", "Provider", "Change", "Before", "After", "Result", ""])
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.load)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(reload_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

    def load(self) -> TaskHandle:
        service = self.service
        return self.runner.start(
            lambda ctx: service.load(ctx),
            name="journal",
            on_result=self.show_lines,
            on_error=lambda message: self.headline.setText(
                f"Could not read the journal: {message}"
            ),
        )

    def show_lines(self, lines: list[Any]) -> None:
        self.lines = list(lines)
        self.tree.clear()
        self.undo_buttons.clear()
        undone = {
            line.undoes_id
            for line in lines
            if line.undoes_id is not None and str(line.state) == "done"
        }
        for line in lines:
            when = line.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
            kind = KIND_LABELS.get(line.kind, str(line.kind))
            if line.undoes_id is not None:
                kind = f"Undo of #{line.undoes_id}: {kind.lower()}"
            state = str(line.state.value if hasattr(line.state, "value") else line.state)
            result = state + (f": {line.message}" if line.message else "")
            item = QTreeWidgetItem(
                [
                    when,
                    line.provider.label,
                    kind,
                    line.old_value or "",
                    line.new_value or "",
                    result,
                    "",
                ]
            )
            item.setData(0, IdRole, line.id)
            item.setIcon(1, provider_icon(line.provider.value, 14))
            if state in STATE_COLORS:
                item.setForeground(5, QBrush(QColor(STATE_COLORS[state])))
            item.setToolTip(5, result)
            self.tree.addTopLevelItem(item)
            if line.undoable and line.id not in undone:
                button = QPushButton("Undo")
                button.setToolTip("Write the value from before back to the provider")
                button.clicked.connect(lambda _=False, jid=line.id: self.undo(jid))
                self.undo_buttons[line.id] = button
                self.tree.setItemWidget(item, 6, button)
        for col in range(6):
            self.tree.resizeColumnToContents(col)
            self.tree.setColumnWidth(col, min(self.tree.columnWidth(col) + 8, 240))
        self.tree.header().setSectionResizeMode(6, QHeaderView.ResizeMode.ResizeToContents)
        n = len(lines)
        self.headline.setText(
            f"{n} journal entr{'ies' if n != 1 else 'y'}"
            if n
            else "Tracekit has not changed anything yet"
        )
        self.loaded.emit(lines)

    def undo(self, journal_id: int) -> TaskHandle:
        button = self.undo_buttons.get(journal_id)
        if button is not None:
            button.setEnabled(False)
            button.setText("Undoing…")
        service = self.service
        return self.runner.start(
            lambda ctx: service.undo(journal_id, ctx),
            name="undo",
            on_result=self._undone,
            on_error=lambda message: self.message.setText(f"Undo failed: {message}"),
        )

    def _undone(self, outcome: Any) -> None:
        status = str(getattr(outcome, "status", ""))
        message = getattr(outcome, "message", "")
        self.message.setText(
            f"Undone: {message}" if status == "done" else f"Undo {status or 'failed'}: {message}"
        )
        self.undone.emit(outcome)
        self.load()
