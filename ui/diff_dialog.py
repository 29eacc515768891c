"""Review and approve: the proposed changes of a month, a date range or chosen activities.

One row per proposed change, grouped by activity: the field, each provider's current value side
by side with the proposed value highlighted, where the proposal comes from (a provider or a
pinned value) and a checkbox. Nothing is checked unless an auto-approve rule says so. Apply runs
on the thread pool with a progress bar and Cancel; afterwards each row shows what really
happened (done, failed with the provider's message, skipped). Closing without applying writes
nothing: the dialog only reads until Apply is pressed. "Don't propose again" dismisses the checked
changes instead (`tracekit.dismissals`, nothing sent anywhere) and reloads the review; the
dismissed changes of the scope are listed on request, each with "Propose again".
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tracekit.changes import PINNED, ChangeKind, Field, ProposedChange
from tracekit.providers.names import ProviderName
from ui.icons import provider_icon, sport_icon
from ui.theme import ERROR_COLOR, OK_COLOR, REVIEW_COLOR, mix
from ui.workers import TaskContext, TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tracekit.settings import Settings
    from tracekit.store.engine import Database
    from ui.backend import ConnectionsFactory, ReviewData, ReviewScope

KIND_LABELS = {
    ChangeKind.RENAME: "Rename",
    ChangeKind.SET_DESCRIPTION: "Description",
    ChangeKind.SET_GEAR: "Gear",
    ChangeKind.ADD_TO_PROVIDER: "Upload",
    ChangeKind.DOWNLOAD_ORIGINAL: "Download original",
    ChangeKind.LINK: "Link",
    ChangeKind.UNLINK: "Unlink",
}
KIND_PLURALS = {
    ChangeKind.RENAME: "renames",
    ChangeKind.SET_DESCRIPTION: "description changes",
    ChangeKind.SET_GEAR: "gear changes",
    ChangeKind.ADD_TO_PROVIDER: "uploads",
    ChangeKind.DOWNLOAD_ORIGINAL: "downloads of originals",
    ChangeKind.LINK: "links",
    ChangeKind.UNLINK: "unlinks",
}

# Columns: what changes, where, to what, on whose authority, how it went; then each provider's
# current value for context (the target provider's cell highlighted).
CHANGE, TARGET, PROPOSED, SOURCE, RESULT, FIRST_PROVIDER = range(6)
ChangeRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class ReviewService:
    """What the dialog calls, each on a worker thread: load the proposals, apply chosen ids,
    dismiss them or propose dismissed ones again."""

    load: "Callable[[ReviewScope, TaskContext], ReviewData]"
    apply: Callable[[list[str], TaskContext], list[Any]]  # → tracekit.apply.ApplyOutcome
    dismiss: Callable[[list[str], TaskContext], list[Any]]  # → the dismissed ProposedChanges
    restore: Callable[[list[str], TaskContext], list[str]]  # → the ids proposed again


def backend_review(
    db: "Database", settings: "Settings", factory: "ConnectionsFactory"
) -> ReviewService:
    from ui import backend

    return ReviewService(
        load=lambda scope, _ctx: backend.load_review(db, scope, settings, factory),
        apply=lambda ids, ctx: backend.apply_changes(db, ids, settings, factory, ctx),
        dismiss=lambda ids, _ctx: backend.dismiss_changes(db, ids, settings, factory),
        restore=lambda ids, _ctx: backend.restore_changes(db, ids),
    )


def _record_value(record: Any, change: ProposedChange) -> str | None:
    """What a record of the activity currently has for the change's field (as shown)."""
    if change.field is Field.NAME:
        return getattr(record, "name", None)
    if change.field is Field.GEAR:
        return getattr(record, "gear", None)
    if (
        record.provider is change.provider
        and getattr(record, "record_id", None) == change.record_id
    ):
        return change.old_value
    return None


def describe_change(change: ProposedChange) -> str:
    return change.field.value.capitalize() if change.field is not None else KIND_LABELS[change.kind]


def describe_activity(entry: Any) -> str:
    return f"{entry.local_date:%a %d %b %Y} · {entry.name or entry.sport}"


def describe_proposed(change: ProposedChange) -> str:
    if change.kind is ChangeKind.ADD_TO_PROVIDER:
        return f"upload the activity to {change.provider.label}"
    if change.kind is ChangeKind.DOWNLOAD_ORIGINAL:
        return "download the original file"
    if change.kind in (ChangeKind.LINK, ChangeKind.UNLINK):
        return change.reason
    return change.new_value if change.new_value not in (None, "") else "(empty)"


def describe_source(change: ProposedChange) -> str:
    if change.source == PINNED:
        return "Pinned by you"
    try:
        return ProviderName(change.source).label
    except ValueError:
        return change.source


class DiffDialog(QDialog):
    applied = Signal(object)  # list of ApplyOutcome
    loaded = Signal(object)  # ReviewData

    def __init__(
        self,
        scope: "ReviewScope",
        settings: "Settings",
        service: ReviewService,
        runner: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.scope = scope
        self.settings = settings
        self.service = service
        # A runner must be owned by a Qt object: a Python-owned one could be collected by the
        # cyclic GC on any thread, destroying QObjects off the GUI thread.
        self.runner = runner or TaskRunner(parent=self)
        self.rows: dict[str, QTreeWidgetItem] = {}
        self.changes: dict[str, ProposedChange] = {}
        self.outcomes: dict[str, Any] = {}
        self.apply_handle: TaskHandle | None = None
        self.edit_handle: TaskHandle | None = None  # dismissing or restoring, then reloading
        self.dismissed: dict[str, ProposedChange] = {}
        self.restore_buttons: dict[str, QPushButton] = {}
        self._keep_checked: set[str] | None = None  # the checks to keep across a reload
        self.providers: list[ProviderName] = []
        self.setWindowTitle(f"Review changes — {scope.label}")
        self.resize(1180, 640)
        self.headline = QLabel(f"Looking for changes in {scope.label}…")
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.headline.setFont(font)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.hide()
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Proposed changes")
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.kind_choice = QComboBox()
        self.kind_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_choice.setAccessibleName("Type of change")
        self.select_kind = QPushButton("Select all of this type")
        self.select_kind.clicked.connect(lambda: self.select_all_of(self.kind_choice.currentData()))
        self.select_none = QPushButton("Select none")
        self.select_none.clicked.connect(self.clear_selection)
        self.show_dismissed = QPushButton("Show dismissed")
        self.show_dismissed.setCheckable(True)
        self.show_dismissed.setToolTip("The changes you asked not to have proposed again")
        self.show_dismissed.hide()
        self.show_dismissed.toggled.connect(self._toggle_dismissed)
        self.dismissed_tree = QTreeWidget()
        self.dismissed_tree.setAccessibleName("Dismissed changes")
        self.dismissed_tree.setRootIsDecorated(False)
        self.dismissed_tree.setUniformRowHeights(True)
        self.dismissed_tree.setHeaderLabels(["Dismissed change", "Activity", "On", "Proposed", ""])
        self.dismissed_tree.header().setStretchLastSection(False)
        self.dismissed_tree.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.dismissed_tree.header().setSectionResizeMode(
            4, QHeaderView.ResizeMode.ResizeToContents
        )
        self.dismissed_tree.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.dismiss_button = QPushButton("Don't propose again")
        self.dismiss_button.setToolTip(
            "Leave the checked changes out of every review; nothing is sent to any provider"
        )
        self.dismiss_button.setEnabled(False)
        self.dismiss_button.clicked.connect(self.dismiss_checked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the change being sent")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_apply)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        selection = QHBoxLayout()
        selection.addWidget(self.kind_choice)
        selection.addWidget(self.select_kind)
        selection.addWidget(self.select_none)
        selection.addStretch(1)
        selection.addWidget(self.show_dismissed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.dismiss_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.note)
        layout.addLayout(selection)
        layout.addWidget(self.tree, 3)
        layout.addWidget(self.dismissed_tree, 1)
        layout.addLayout(buttons)
        self._filling = False

    # ------------------------------------------------------------------ loading
    def load(self) -> TaskHandle:
        scope, service = self.scope, self.service
        return self.runner.start(
            lambda ctx: service.load(scope, ctx),
            name="review",
            on_result=self.show_review,
            on_error=lambda message: self.headline.setText(
                f"Could not work out the changes: {message}"
            ),
            on_finished=self._update_apply,
        )

    def show_review(self, data: "ReviewData") -> None:
        keep, self._keep_checked = self._keep_checked, None
        self._filling = True
        self.tree.clear()
        self.rows.clear()
        self.changes.clear()
        entries = list(data.entries)
        seen = {r.provider for e in entries for r in e.records} | {
            c.provider for e in entries for c in e.changes
        }
        self.providers = [p for p in ProviderName if p in seen]
        headers = ["Change", "On", "Proposed", "From", "Result"] + [p.label for p in self.providers]
        self.tree.setColumnCount(len(headers))
        self.tree.setHeaderLabels(headers)
        header = self.tree.headerItem()
        for i, provider in enumerate(self.providers):
            header.setIcon(FIRST_PROVIDER + i, provider_icon(provider.value, 14))
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        current_bg = QBrush(mix(base, QColor(REVIEW_COLOR), 0.20))
        proposed_bg = QBrush(mix(base, QColor(OK_COLOR), 0.22))
        bold = QFont(self.tree.font())
        bold.setBold(True)
        kinds: list[ChangeKind] = []
        for entry in entries:
            group = QTreeWidgetItem([describe_activity(entry)])
            group.setIcon(0, sport_icon(str(entry.sport), 16))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setFont(0, bold)
            group.setFirstColumnSpanned(True)
            if entry.flags:
                group.setToolTip(0, "\n".join(entry.flags))
            self.tree.addTopLevelItem(group)
            group.setFirstColumnSpanned(True)
            for change in entry.changes:
                if change.kind not in kinds:
                    kinds.append(change.kind)
                checked = (
                    change.id in keep
                    if keep is not None
                    else change.kind.value in self.settings.auto_approve
                )
                row = self._row(entry, change, checked, current_bg, proposed_bg, bold)
                group.addChild(row)
                self.rows[change.id] = row
                self.changes[change.id] = change
            group.setExpanded(True)
        for col in range(self.tree.columnCount()):
            self.tree.header().setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        widest = {CHANGE: 240, TARGET: 150, PROPOSED: 220, SOURCE: 140}
        for col in range(self.tree.columnCount()):
            if col == RESULT:
                self.tree.setColumnWidth(col, 130)
                continue
            self.tree.resizeColumnToContents(col)
            self.tree.setColumnWidth(col, min(self.tree.columnWidth(col) + 8, widest.get(col, 150)))
        self.kind_choice.clear()
        for kind in kinds:
            count = sum(1 for c in self.changes.values() if c.kind is kind)
            self.kind_choice.addItem(f"{KIND_PLURALS[kind].capitalize()} ({count})", kind)
        self.kind_choice.setEnabled(bool(kinds))
        self.select_kind.setEnabled(bool(kinds))
        self._filling = False
        n = len(self.changes)
        activities = len(entries)
        if n:
            self.headline.setText(
                f"{n} proposed change{'s' if n != 1 else ''} for {activities} "
                f"activit{'ies' if activities != 1 else 'y'} in {self.scope.label}"
            )
        else:
            self.headline.setText(f"Nothing to change in {self.scope.label}")
        if data.problem:
            self.note.setText(data.problem)
            self.note.setStyleSheet(
                f"background: {QColor(REVIEW_COLOR).name()}22; border: 1px solid {REVIEW_COLOR};"
                "border-radius: 6px; padding: 6px;"
            )
            self.note.show()
        self._show_dismissed(data.dismissed)
        self._update_apply()
        self.loaded.emit(data)

    def _show_dismissed(self, entries: Sequence[Any]) -> None:
        self.dismissed_tree.clear()
        self.dismissed.clear()
        self.restore_buttons.clear()
        for entry in entries:
            for change in entry.dismissed:
                item = QTreeWidgetItem(
                    [
                        describe_change(change),
                        describe_activity(entry),
                        change.provider.label,
                        describe_proposed(change),
                        "",
                    ]
                )
                item.setIcon(2, provider_icon(change.provider.value, 14))
                item.setToolTip(0, change.reason)
                self.dismissed_tree.addTopLevelItem(item)
                button = QPushButton("Propose again")
                button.setToolTip("Show this change in reviews again")
                button.clicked.connect(lambda _=False, cid=change.id: self.restore([cid]))
                self.dismissed_tree.setItemWidget(item, 4, button)
                self.restore_buttons[change.id] = button
                self.dismissed[change.id] = change
        for col in range(3):
            self.dismissed_tree.resizeColumnToContents(col)
            self.dismissed_tree.setColumnWidth(col, self.dismissed_tree.columnWidth(col) + 8)
        n = len(self.dismissed)
        self.show_dismissed.setText(f"Show dismissed ({n})")
        self.show_dismissed.setVisible(n > 0)
        self.dismissed_tree.setVisible(n > 0 and self.show_dismissed.isChecked())

    def _toggle_dismissed(self, shown: bool) -> None:
        self.dismissed_tree.setVisible(shown and bool(self.dismissed))

    def _row(
        self,
        entry: Any,
        change: ProposedChange,
        checked: bool,
        current_bg: QBrush,
        proposed_bg: QBrush,
        bold: QFont,
    ) -> QTreeWidgetItem:
        values = [
            describe_change(change),
            change.provider.label,
            describe_proposed(change),
            describe_source(change),
            "",
        ]
        for provider in self.providers:
            shown = [
                v
                for r in entry.records
                if r.provider is provider
                if (v := _record_value(r, change))
            ]
            text = " / ".join(dict.fromkeys(shown))
            if provider is change.provider and change.kind is ChangeKind.ADD_TO_PROVIDER:
                text = "(missing)"
            values.append(text)
        row = QTreeWidgetItem(values)
        row.setData(CHANGE, ChangeRole, change.id)
        row.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsSelectable
        )
        auto = change.kind.value in self.settings.auto_approve
        row.setCheckState(CHANGE, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        row.setToolTip(
            CHANGE, change.reason + ("\n(checked by your auto-approve rule)" if auto else "")
        )
        row.setIcon(TARGET, provider_icon(change.provider.value, 14))
        if change.provider in self.providers:
            col = FIRST_PROVIDER + self.providers.index(change.provider)
            row.setBackground(col, current_bg)
            row.setToolTip(col, f"{change.provider.label} now has this; it would change")
        row.setBackground(PROPOSED, proposed_bg)
        row.setFont(PROPOSED, bold)
        row.setToolTip(PROPOSED, change.reason)
        for col in range(FIRST_PROVIDER, FIRST_PROVIDER + len(self.providers)):
            if values[col]:
                row.setToolTip(col, row.toolTip(col) or values[col])
        return row

    # ------------------------------------------------------------------ selection
    def change_ids(self) -> list[str]:
        """Every change shown, in order."""
        return list(self.rows)

    def checked_ids(self) -> list[str]:
        return [
            cid for cid, row in self.rows.items() if row.checkState(CHANGE) == Qt.CheckState.Checked
        ]

    def set_checked(self, change_id: str, checked: bool) -> None:
        self.rows[change_id].setCheckState(
            CHANGE, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        )

    def select_all_of(self, kind: ChangeKind | None) -> None:
        if kind is None:
            return
        for cid, change in self.changes.items():
            if change.kind is ChangeKind(kind):
                self.set_checked(cid, True)

    def clear_selection(self) -> None:
        for cid in self.rows:
            self.set_checked(cid, False)

    def _item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == CHANGE and not self._filling:
            self._update_apply()

    def _busy(self) -> bool:
        return any(h is not None and h.running for h in (self.apply_handle, self.edit_handle))

    def _update_apply(self) -> None:
        n = len(self.checked_ids())
        ready = not self._busy() and not self.outcomes
        self.apply_button.setText(f"Apply {n} change{'s' if n != 1 else ''}" if n else "Apply")
        self.apply_button.setEnabled(n > 0 and ready)
        self.dismiss_button.setEnabled(n > 0 and ready)
        for button in self.restore_buttons.values():
            button.setEnabled(ready)

    def _context_menu(self, pos: Any) -> None:
        item = self.tree.itemAt(pos)
        cid = item.data(CHANGE, ChangeRole) if item is not None else None
        if cid is None or self.outcomes:
            return
        kind = self.changes[cid].kind
        checked = self.checked_ids()
        chosen = checked if cid in checked else [cid]
        menu = QMenu(self)
        menu.addAction(f"Select all {KIND_PLURALS[kind]}", lambda: self.select_all_of(kind))
        menu.addAction("Select none", self.clear_selection)
        menu.addSeparator()
        dismiss = menu.addAction(
            "Don't propose again"
            if len(chosen) == 1
            else f"Don't propose these {len(chosen)} again",
            lambda: self.dismiss(chosen),
        )
        dismiss.setEnabled(not self._busy())
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ dismissing
    def dismiss_checked(self) -> TaskHandle | None:
        return self.dismiss(self.checked_ids())

    def dismiss(self, ids: list[str]) -> TaskHandle | None:
        """Leave these changes out of every review, then reload: they disappear from the list."""
        if not ids or self._busy() or self.outcomes:
            return None
        service = self.service
        self._keep_checked = set(self.checked_ids()) - set(ids)
        return self._edit(lambda ctx: service.dismiss(ids, ctx), "dismiss", "Could not dismiss")

    def restore(self, ids: list[str]) -> TaskHandle | None:
        """Propose these dismissed changes again, then reload: they are back in the list."""
        if not ids or self._busy() or self.outcomes:
            return None
        service = self.service
        self._keep_checked = set(self.checked_ids())
        return self._edit(
            lambda ctx: service.restore(ids, ctx), "restore", "Could not propose them again"
        )

    def _edit(self, task: Callable[[TaskContext], Any], name: str, failed: str) -> TaskHandle:
        def show_failure(message: str) -> None:
            self._keep_checked = None
            self.headline.setText(f"{failed}: {message}")

        self.edit_handle = self.runner.start(
            task,
            name=name,
            on_result=lambda _result: self._reload(),
            on_error=show_failure,
            on_finished=self._update_apply,
        )
        self._update_apply()
        return self.edit_handle

    def _reload(self) -> None:
        # the reload counts as part of the edit: nothing is offered until the list is current
        self.edit_handle = self.load()

    # ------------------------------------------------------------------ applying
    def apply(self) -> TaskHandle | None:
        ids = self.checked_ids()
        if not ids or (self.apply_handle is not None and self.apply_handle.running):
            return None
        for row in self.rows.values():
            row.setFlags(row.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        for cid in ids:
            self.rows[cid].setText(self._result_col(), "waiting…")
        self.progress.setRange(0, len(ids))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        for w in (self.kind_choice, self.select_kind, self.select_none):
            w.setEnabled(False)
        service = self.service
        self.apply_handle = self.runner.start(
            lambda ctx: service.apply(ids, ctx),
            name="apply",
            on_progress=self._progress,
            on_result=lambda outcomes: self._applied(ids, outcomes),
            on_error=lambda message: self._apply_failed(ids, message),
            on_finished=self._apply_finished,
        )
        self._update_apply()
        return self.apply_handle

    def _result_col(self) -> int:
        return RESULT

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total}")

    def cancel_apply(self) -> None:
        if self.apply_handle is not None and self.apply_handle.running:
            self.apply_handle.cancel()
            self.cancel_button.setEnabled(False)
            self.headline.setText(
                "Cancelling: the change being sent finishes, the rest are skipped…"
            )

    def _applied(self, ids: Sequence[str], outcomes: Sequence[Any]) -> None:
        by_id = {o.change_id: o for o in outcomes}
        col = self._result_col()
        done = failed = skipped = 0
        for cid in ids:
            row = self.rows[cid]
            outcome = by_id.get(cid)
            status = str(getattr(outcome, "status", "")) if outcome is not None else ""
            message = getattr(outcome, "message", "") if outcome is not None else "no answer"
            if status == "done":
                done += 1
                row.setText(col, f"✓ Done{': ' + message if message else ''}")
                row.setForeground(col, QBrush(QColor(OK_COLOR)))
            elif status == "failed":
                failed += 1
                row.setText(col, f"✗ Failed: {message}")
                row.setForeground(col, QBrush(QColor(ERROR_COLOR)))
            else:
                skipped += 1
                row.setText(col, f"Skipped: {message}")
                row.setForeground(
                    col,
                    QBrush(
                        mix(
                            QColor(REVIEW_COLOR), self.palette().color(QPalette.ColorRole.Text), 0.3
                        )
                    ),
                )
            row.setToolTip(col, message)
            self.outcomes[cid] = outcome
        self.headline.setText(f"Applied: {done} done, {failed} failed, {skipped} skipped")
        self.applied.emit(list(outcomes))

    def _apply_failed(self, ids: Sequence[str], message: str) -> None:
        col = self._result_col()
        for cid in ids:
            self.rows[cid].setText(col, f"✗ Not confirmed: {message}")
            self.rows[cid].setForeground(col, QBrush(QColor(ERROR_COLOR)))
            self.outcomes[cid] = None
        self.headline.setText(f"Applying stopped: {message}. See the journal for what was sent.")
        self.applied.emit([])

    def _apply_finished(self) -> None:
        self.cancel_button.hide()
        self.progress.hide()
        self._update_apply()

    def result_text(self, change_id: str) -> str:
        return self.rows[change_id].text(self._result_col())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.apply_handle is not None and self.apply_handle.running:
            self.cancel_apply()
            event.ignore()
            return
        super().closeEvent(event)


class RangeDialog(QDialog):
    """Choose the dates whose proposals to review."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review a date range")
        today = QDate.currentDate()
        self.start = QDateEdit(today.addMonths(-1))
        self.end = QDateEdit(today)
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        form = QFormLayout(self)
        form.addRow("From", self.start)
        form.addRow("To", self.end)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def scope(self) -> "ReviewScope":
        from ui.backend import ReviewScope

        start: date = self.start.date().toPython()  # type: ignore[assignment]
        end: date = self.end.date().toPython()  # type: ignore[assignment]
        if end < start:
            start, end = end, start
        return ReviewScope(f"{start:%Y-%m-%d} – {end:%Y-%m-%d}", start, end)
