"""The main window: providers on the left, the month calendar (and the stats) in the middle,
the selected activity on the right; menus, toolbar, drag and drop, background sync.

The window never touches the database itself: every read and write is a task on the thread
pool (`ui.workers`) running a function of `ui.backend`, whose result comes back as a signal.
`ui.backend` (and with it SQLAlchemy) is imported by the first task, on a worker thread, so the
window is painted before the heavy imports finish.
"""

import calendar
import gc
import importlib
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QProcess, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tracekit.changes import Field
from tracekit.providers.names import ProviderName
from tracekit.units import UnitSystem
from ui.activity_detail import ActivityDetailPane
from ui.calendar_view import CalendarPanel, qt_first_weekday
from ui.icons import app_icon
from ui.import_ui import (
    FILE_FILTER,
    DropOverlay,
    EmptyState,
    ImportStrip,
    ImportSummary,
    dropped_paths,
)
from ui.provider_panel import ProviderPanel
from ui.stats_view import StatsView
from ui.tray import Tray, create_tray, tray_available
from ui.tray_logic import CloseDecision, Snapshot, TrayAction, TrayController, TrayMessage
from ui.workers import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tracekit.settings import Settings
    from tracekit.stats import ActivityDetail
    from tracekit.store.engine import Database
    from ui.backend import ConnectionsFactory, ImportOutcome, MonthData, Opened, Overview
    from ui.settings_dialog import SettingsDialog

MONTH_CACHE = 36
OVERVIEW_EVERY_MS = 60_000
OVERVIEW_DELAY_MS = 800


def backend() -> ModuleType:
    """`ui.backend`, imported on first use (normally by the first task, on a worker thread)."""
    return importlib.import_module("ui.backend")


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """Which database the window shows."""

    url: str
    archive_dir: Path
    demo: bool = False
    demo_months: int = 12

    @property
    def key(self) -> str:
        return self.url


class MainWindow(QMainWindow):
    opened = Signal()
    open_failed = Signal(str)
    month_shown = Signal(object)  # MonthData
    detail_shown = Signal(object)  # ActivityDetail | None
    overview_shown = Signal(object)  # Overview
    import_finished = Signal(object)  # ImportOutcome
    settings_saved = Signal(object)  # Settings
    sync_finished = Signal(object)

    def __init__(
        self,
        target: StoreTarget,
        *,
        state: QSettings | None = None,
        runner: TaskRunner | None = None,
        connections: "ConnectionsFactory | None" = None,
        tray_check: Callable[[], bool] = tray_available,
    ) -> None:
        super().__init__()
        self.target = target
        self.state = state or QSettings()
        self.runner = runner or TaskRunner(parent=self)
        self.connections_factory = connections
        self.db: Database | None = None
        self.settings: Settings | None = None
        self.units = UnitSystem.METRIC
        self.first_weekday = qt_first_weekday()
        self.current: tuple[int, int] = (date.today().year, date.today().month)
        self.prefetch = True
        self._month_cache: OrderedDict[tuple[int, int], MonthData] = OrderedDict()
        self._month_token = 0
        self._detail_token = 0
        self._pending_select: int | None = None
        self._selected: int | None = None
        self._pending_imports: list[Path] = []
        self.import_handle: TaskHandle | None = None
        self.sync_handle: TaskHandle | None = None
        self.last_import_summary: ImportSummary | None = None
        self.last_overview: Overview | None = None
        self.events: list[TrayMessage] = []
        self.sync_available = False
        self._stats_loaded = False
        self._closing = False
        self._overview_after_month = False
        self.proposals: int | None = None  # counted after each sync, for the tray

        self.setWindowTitle("Tracekit — Demo" if target.demo else "Tracekit")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 600)
        self.resize(1360, 860)

        # -- widgets
        self.calendar = CalendarPanel()
        self.stats_view = StatsView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.calendar, "Calendar")
        self.tabs.addTab(self.stats_view, "Stats")
        self.providers_panel = ProviderPanel()
        self.notifications = QListWidget()
        self.notifications.setAccessibleName("Notifications")
        self.notifications.setWordWrap(True)
        self.notifications.setMaximumHeight(140)
        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.providers_panel, 1)
        heading = QLabel("Notifications")
        heading.setContentsMargins(10, 0, 0, 0)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        side.addWidget(heading)
        side.addWidget(self.notifications)
        self.sidebar = sidebar
        self.detail = ActivityDetailPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(sidebar)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([200, 760, 400])
        self.splitter.setChildrenCollapsible(False)
        self.empty = EmptyState()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.empty)
        self.setCentralWidget(self.pages)
        self.overlay = DropOverlay(self.pages)
        self.import_strip = ImportStrip()
        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.import_strip)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect()

        self.controller = TrayController(
            interval_minutes=60,
            sync_available=False,
            tray_available=tray_check(),
            hint_shown=bool(self.state.value("tray/hint_shown", False, type=bool)),
        )
        self.tray: Tray | None = create_tray(
            self.controller, self, self.tray_action, available=tray_check
        )
        self.sync_timer = QTimer(self)
        self.sync_timer.setSingleShot(True)
        self.sync_timer.timeout.connect(self.background_sync)
        self.overview_timer = QTimer(self)
        self.overview_timer.setInterval(OVERVIEW_EVERY_MS)
        self.overview_timer.timeout.connect(self.refresh_overview)
        self._restore_state()
        self.calendar.set_title(*self.current)
        self.calendar.loading.setText("Opening the database…")
        self._set_data_actions(False)

    # ------------------------------------------------------------------ building
    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        shortcuts: Sequence[QKeySequence | QKeySequence.StandardKey | str] = (),
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        keys = [QKeySequence(s) if not isinstance(s, QKeySequence) else s for s in shortcuts]
        keys = [k for k in keys if not k.isEmpty()]
        if keys:
            action.setShortcuts(keys)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.import_action = self._action(
            "&Import files…",
            self.choose_files,
            [QKeySequence.StandardKey.Open],
            "Import FIT, GPX, TCX files or zips",
        )
        self.import_folder_action = self._action(
            "Import &folder…",
            self.choose_folder,
            ["Ctrl+Shift+O"],
            "Import every activity file in a folder",
        )
        self.demo_action = self._action(
            "Open the &demo", self.open_demo, tip="Open the demo database in its own window"
        )
        self.settings_action = self._action(
            "&Settings…",
            lambda: self.open_settings(),
            [QKeySequence.StandardKey.Preferences, "Ctrl+,"],
        )
        self.quit_action = self._action(
            "&Quit", self.quit_app, [QKeySequence.StandardKey.Quit, "Ctrl+Q"]
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.prev_action = self._action(
            "&Previous month", lambda: self.step_month(-1), ["PgUp", "Alt+Left"]
        )
        self.next_action = self._action(
            "&Next month", lambda: self.step_month(1), ["PgDown", "Alt+Right"]
        )
        self.today_action = self._action("&Today", self.go_today, ["Ctrl+T", "Home"])
        self.calendar_tab_action = self._action(
            "&Calendar", lambda: self.tabs.setCurrentIndex(0), ["Ctrl+1"]
        )
        self.stats_tab_action = self._action(
            "S&tats", lambda: self.tabs.setCurrentIndex(1), ["Ctrl+2"]
        )
        self.refresh_action = self._action(
            "&Reload", self.reload_all, [QKeySequence.StandardKey.Refresh]
        )
        self.sync_action = self._action("&Sync now", lambda: self.sync_now(None), ["Ctrl+R"])
        self.pause_action = self._action("&Pause background sync", self._toggle_pause)
        self.pause_action.setCheckable(True)
        self.review_action = self._action(
            "&Review changes…",
            self.review_month,
            ["Ctrl+Shift+R"],
            "Proposed fixes for the month shown",
        )
        self.review_range_action = self._action("Review a date &range…", self.review_range)
        self.review_selected_action = self._action(
            "Review the &selected activity…", self.review_selected
        )
        self.journal_action = self._action(
            "&Journal…", self.open_journal, ["Ctrl+J"], "What Tracekit changed, with Undo"
        )
        self.about_action = self._action("&About Tracekit", self.about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for a in (self.import_action, self.import_folder_action, None, self.demo_action, None):
            file_menu.addAction(a) if a else file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view = bar.addMenu("&View")
        for a in (
            self.prev_action,
            self.next_action,
            self.today_action,
            None,
            self.calendar_tab_action,
            self.stats_tab_action,
            None,
            self.refresh_action,
        ):
            view.addAction(a) if a else view.addSeparator()
        sync = bar.addMenu("&Sync")
        sync.addAction(self.sync_action)
        sync.addAction(self.pause_action)
        review = bar.addMenu("&Review")
        for a in (
            self.review_action,
            self.review_range_action,
            self.review_selected_action,
            None,
            self.journal_action,
        ):
            review.addAction(a) if a else review.addSeparator()
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (
            self.import_action,
            self.sync_action,
            self.review_action,
            self.journal_action,
            self.settings_action,
        ):
            toolbar.addAction(a)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _connect(self) -> None:
        self.calendar.previous_requested.connect(lambda: self.step_month(-1))
        self.calendar.next_requested.connect(lambda: self.step_month(1))
        self.calendar.today_requested.connect(self.go_today)
        self.calendar.view.activity_selected.connect(self.select_activity)
        self.detail.open_url.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.detail.show_file.connect(
            lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))
        )
        self.detail.unlink_requested.connect(self.unlink_record)
        self.detail.link_requested.connect(self.link_activity)
        self.detail.pin_requested.connect(self.pin_value)
        self.detail.review_requested.connect(lambda activity: self.open_review_for([activity]))
        self.providers_panel.sync_requested.connect(lambda provider: self.sync_now([provider]))
        self.providers_panel.connect_requested.connect(self.connect_provider)
        self.stats_view.request.connect(self.load_stats)
        self.stats_view.activity_chosen.connect(self.show_activity)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.import_strip.cancel_requested.connect(self.cancel_import)
        self.empty.import_requested.connect(self.choose_files)
        self.empty.connect_requested.connect(lambda: self.open_settings(0))
        self.empty.demo_requested.connect(self.open_demo)

    def _set_data_actions(self, enabled: bool) -> None:
        for a in (
            self.import_action,
            self.import_folder_action,
            self.settings_action,
            self.review_action,
            self.review_range_action,
            self.review_selected_action,
            self.journal_action,
            self.refresh_action,
        ):
            a.setEnabled(enabled)
        self._update_sync_actions()

    # ------------------------------------------------------------------ state
    def _state_key(self, name: str) -> str:
        import hashlib

        return f"db-{hashlib.sha1(self.target.key.encode()).hexdigest()[:12]}/{name}"

    def _restore_state(self) -> None:
        geometry = self.state.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        for key, splitter in (
            ("window/splitter", self.splitter),
            ("stats/splitter", self.stats_view.splitter),
        ):
            saved = self.state.value(key)
            if isinstance(saved, QByteArray) and not saved.isEmpty():
                splitter.restoreState(saved)
        month = self.state.value(self._state_key("month"))
        if isinstance(month, str) and len(month) == 7:
            try:
                self.current = (int(month[:4]), int(month[5:]))
                self._restored_month = True
            except ValueError:
                pass

    def save_state(self) -> None:
        self.state.setValue("window/geometry", self.saveGeometry())
        self.state.setValue("window/splitter", self.splitter.saveState())
        self.state.setValue("stats/splitter", self.stats_view.splitter.saveState())
        self.state.setValue(
            self._state_key("month"), f"{self.current[0]:04d}-{self.current[1]:02d}"
        )
        self.state.setValue("tray/hint_shown", self.controller.hint_shown)
        self.state.sync()

    # ------------------------------------------------------------------ opening
    def start(self) -> TaskHandle:
        """Open the database on a worker (creating the demo first when needed)."""
        target = self.target

        def task(ctx: Any) -> "Opened":
            opened: Opened = backend().open_store(
                target.url,
                target.archive_dir,
                ctx,
                demo=target.demo,
                demo_months=target.demo_months,
            )
            return opened

        return self.runner.start(
            task,
            name="open",
            on_result=self._opened,
            on_error=self._open_failed,
            on_progress=lambda _d, _t, text: self.calendar.loading.setText(text),
        )

    def _opened(self, opened: "Opened") -> None:
        # Everything alive now (modules, Qt wrappers, ORM metadata) lives as long as the app:
        # moving it to the permanent generation means a full collection during a long import
        # scans only new objects. Measured on a 2,000-file import: GC pauses of 70–110 ms
        # (holding the GIL, so the event loop stalled) became ≤ 45 ms.
        gc.freeze()
        self.db = opened.db
        self.settings = opened.settings
        self.units = opened.settings.units
        self.controller.set_interval(opened.settings.sync_interval_minutes)
        bk = backend()
        if self.connections_factory is None:
            self.connections_factory = bk.connections
        self.sync_available = True
        self.controller.sync_available = True
        self.providers_panel.set_sync_available(True)
        self.detail.set_pin_available(True, "")
        self.detail.set_review_available(True, "")
        self.empty.set_location(opened.location)
        self._set_data_actions(True)
        if opened.created_demo:
            self.status(f"Created the demo database at {opened.location}")
        if opened.empty:
            self.pages.setCurrentWidget(self.empty)
            self.calendar.loading.setText("")
        else:
            self.pages.setCurrentWidget(self.splitter)
            if not getattr(self, "_restored_month", False) and opened.latest is not None:
                self.current = (opened.latest.year, opened.latest.month)
            self.go_month(*self.current)
        if opened.empty:
            self.refresh_overview()
        else:  # the provider panel can wait until the month is on screen
            self._overview_after_month = True
        self.overview_timer.start()
        self._schedule_sync()
        self.opened.emit()

    def _open_failed(self, message: str) -> None:
        self.calendar.loading.setText("")
        self.status(f"Could not open the database: {message}")
        self.open_failed.emit(message)
        QMessageBox.critical(self, "Tracekit", f"Could not open the database:\n\n{message}")

    def status(self, text: str) -> None:
        self.status_label.setText(text)

    # ------------------------------------------------------------------ months
    def go_month(self, year: int, month: int, select: int | None = None) -> None:
        self.current = (year, month)
        self.calendar.set_title(year, month)
        if select is not None:
            self._pending_select = select
        if self.db is None:
            return
        cached = self._month_cache.get((year, month))
        if cached is not None:
            self._month_cache.move_to_end((year, month))
            self._show_month(cached)
            return
        self._month_token += 1
        token = self._month_token
        self.calendar.loading.setText("Loading…")
        self._load_month(year, month, lambda data: self._month_loaded(token, data))

    def _load_month(self, year: int, month: int, done: Callable[["MonthData"], None]) -> None:
        db, first = self.db, self.first_weekday
        if db is None:  # the window closed its database while an earlier load was finishing
            return
        self.runner.start(
            lambda _ctx: backend().load_month(db, year, month, first),
            name=f"month {year}-{month:02d}",
            on_result=done,
            on_error=lambda message: self.status(f"Could not read {year}-{month:02d}: {message}"),
        )

    def _remember(self, data: "MonthData") -> None:
        key = (data.month.year, data.month.month)
        self._month_cache[key] = data
        self._month_cache.move_to_end(key)
        while len(self._month_cache) > MONTH_CACHE:
            self._month_cache.popitem(last=False)

    def _month_loaded(self, token: int, data: "MonthData") -> None:
        self._remember(data)
        if token == self._month_token and (data.month.year, data.month.month) == self.current:
            self._show_month(data)

    def _show_month(self, data: "MonthData") -> None:
        self.calendar.show_month(data, self.units)
        select = self._pending_select if self._pending_select is not None else self._selected
        self._pending_select = None
        if select is not None and self.calendar.model.index_of_activity(select).isValid():
            self.calendar.view.select_activity(select)
        else:
            self.calendar.model.set_selected_activity(self._selected)
        self.month_shown.emit(data)
        if self._overview_after_month:
            # The provider panel's first read imports the provider clients (≈0.4 s of
            # Python on a worker, competing for the GIL): let the first month settle first.
            self._overview_after_month = False
            QTimer.singleShot(OVERVIEW_DELAY_MS, self.refresh_overview)
        if self.prefetch:
            self._prefetch()

    def _prefetch(self) -> None:
        year, month = self.current
        for step in (-1, 1):
            index = year * 12 + month - 1 + step
            key = (index // 12, index % 12 + 1)
            if key not in self._month_cache:
                self._load_month(key[0], key[1], self._remember)

    def step_month(self, months: int) -> None:
        year, month = self.current
        index = year * 12 + month - 1 + months
        self.go_month(index // 12, index % 12 + 1)

    def go_today(self) -> None:
        today = date.today()
        self.go_month(today.year, today.month)
        index = self.calendar.model.index_of_date(today)
        if index.isValid():
            self.calendar.view.setCurrentIndex(index)

    def clear_month_cache(self) -> None:
        """Forget the months already read (benchmarks measure uncached switches)."""
        self._month_cache.clear()

    def invalidate(self) -> None:
        """Data changed: forget cached months and show fresh ones."""
        self._month_cache.clear()
        self._stats_loaded = False
        if self.db is None:
            return
        self.go_month(*self.current)
        if self._selected is not None:
            self.select_activity(self._selected)
        if self.tabs.currentWidget() is self.stats_view:
            self.load_stats()
        self.refresh_overview()

    def reload_all(self) -> None:
        self.invalidate()

    def show_activity(self, activity_id: int, day: date) -> None:
        """Jump to an activity: its month in the calendar, selected."""
        self.tabs.setCurrentWidget(self.calendar)
        self.pages.setCurrentWidget(self.splitter)
        self.go_month(day.year, day.month, select=activity_id)
        self.select_activity(activity_id)

    # ------------------------------------------------------------------ detail
    def select_activity(self, activity_id: int) -> None:
        self._selected = activity_id
        if self.db is None or self.settings is None:
            return
        self._detail_token += 1
        token = self._detail_token
        db, settings = self.db, self.settings
        self.runner.start(
            lambda _ctx: backend().load_detail(db, activity_id, settings),
            name="detail",
            on_result=lambda detail: self._detail_loaded(token, detail),
            on_error=lambda message: self.status(f"Could not read the activity: {message}"),
        )

    def _detail_loaded(self, token: int, detail: "ActivityDetail | None") -> None:
        if token != self._detail_token:
            return
        self.detail.set_detail(detail, self.units)
        self.detail_shown.emit(detail)

    # ------------------------------------------------------------------ overview / notifications
    def refresh_overview(self) -> None:
        if self.db is None:
            return
        db = self.db
        self.runner.start(
            lambda _ctx: backend().load_overview(db),
            name="overview",
            on_result=self._overview_loaded,
        )

    def _overview_loaded(self, overview: "Overview") -> None:
        self.last_overview = overview
        now = datetime.now(UTC)
        self.providers_panel.set_rows(overview.providers, now)
        self._update_sync_actions()
        messages = self.controller.observe(
            Snapshot(
                overview.activities, self.proposals, overview.providers, overview.notifications
            )
        )
        self.notify(messages)
        self._fill_notifications(overview)
        if overview.activities and self.pages.currentWidget() is self.empty:
            self.pages.setCurrentWidget(self.splitter)
            self.go_month(*self.current)
        self.overview_shown.emit(overview)

    def notify(self, messages: Sequence[TrayMessage]) -> None:
        for message in messages:
            self.events.insert(0, message)
            if self.tray is not None:
                self.tray.show_message(message)

    def _fill_notifications(self, overview: "Overview") -> None:
        self.notifications.clear()
        for event in self.events[:10]:
            self.notifications.addItem(QListWidgetItem(f"{event.title}: {event.body}"))
        for note in overview.notifications[:30]:
            when = note.created_at.astimezone().strftime("%d %b %H:%M")
            item = QListWidgetItem(f"{when} · {note.message}")
            item.setToolTip(note.message)
            self.notifications.addItem(item)
        if not self.notifications.count():
            item = QListWidgetItem("Nothing new")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.notifications.addItem(item)

    # ------------------------------------------------------------------ stats
    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.stats_view and not self._stats_loaded:
            self.load_stats()

    def load_stats(self) -> None:
        if self.db is None or self.settings is None:
            return
        from tracekit.stats import Grouping, Period

        db, settings, first = self.db, self.settings, self.first_weekday
        year = self.stats_view.chosen_year()
        period = Period(self.stats_view.chosen_period())
        grouping = Grouping(self.stats_view.chosen_grouping())
        self._stats_loaded = True
        self.runner.start(
            lambda _ctx: backend().load_stats(db, year, period, grouping, first, settings),
            name="stats",
            on_result=lambda data: self.stats_view.show_stats(data, self.units),
            on_error=lambda message: self.status(f"Could not compute the stats: {message}"),
        )

    # ------------------------------------------------------------------ importing
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
            self._show_overlay(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._show_overlay(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._show_overlay(False)
        paths = dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_paths(paths)

    def _show_overlay(self, visible: bool) -> None:
        self.overlay.setGeometry(self.pages.rect())
        self.overlay.setVisible(visible)
        if visible:
            self.overlay.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.overlay.setGeometry(self.pages.rect())

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import activity files", str(Path.home()), FILE_FILTER
        )
        if files:
            self.import_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder", str(Path.home()))
        if folder:
            self.import_paths([Path(folder)])

    def import_paths(self, paths: Sequence[Path]) -> TaskHandle | None:
        """Import on a worker; the summary appears at the end and the calendar jumps to the
        newest imported activity. A second drop during an import waits for the first."""
        if self.db is None or (self.import_handle is not None and self.import_handle.running):
            self._pending_imports.extend(paths)
            self.status(f"{len(self._pending_imports)} item(s) waiting to be imported")
            return None
        db, archive = self.db, self.target.archive_dir
        chosen = list(paths)
        self.import_strip.start(f"Importing {len(chosen)} item(s)…")
        handle = self.runner.start(
            lambda ctx: backend().import_in_process(db.url, archive, chosen, ctx),
            name="import",
            on_progress=self.import_strip.progress,
            on_result=self._imported,
            on_error=self._import_failed,
            on_finished=self._import_done,
        )
        self.import_handle = handle
        return handle

    def cancel_import(self) -> None:
        if self.import_handle is not None and self.import_handle.running:
            self.import_handle.cancel()
            self.import_strip.cancelling()

    def _imported(self, outcome: "ImportOutcome") -> None:
        self.status(
            f"Import {'cancelled' if outcome.cancelled else 'finished'}: "
            f"{outcome.imported} imported, {outcome.duplicates} duplicates, "
            f"{len(outcome.failed)} failed"
        )
        self._month_cache.clear()
        self._stats_loaded = False
        if outcome.newest is not None:
            activity_id, day = outcome.newest
            self.show_activity(activity_id, day)
        else:
            self.go_month(*self.current)
        self.refresh_overview()
        summary = ImportSummary(outcome, self)
        summary.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if outcome.newest is not None:
            newest = outcome.newest
            summary.show_newest.connect(lambda: self.show_activity(*newest))
        self.last_import_summary = summary
        summary.show()
        self.import_finished.emit(outcome)

    def _import_failed(self, message: str) -> None:
        self.status(f"Import failed: {message}")
        QMessageBox.warning(self, "Import failed", message)

    def _import_done(self) -> None:
        self.import_strip.hide()
        if self._pending_imports and not self._closing:
            waiting, self._pending_imports = self._pending_imports, []
            self.import_paths(waiting)

    # ------------------------------------------------------------------ links and pins
    def unlink_record(self, record_id: int, confirm: bool = True) -> TaskHandle | None:
        if self.db is None:
            return None
        if confirm:
            answer = QMessageBox.question(
                self,
                "Unlink record",
                "Make this record its own activity? The matcher will not join it to this "
                "activity again (you can link it back).",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        db = self.db
        return self.runner.start(
            lambda _ctx: backend().unlink_record(db, record_id),
            name="unlink",
            on_result=lambda _r: self._changed("Record unlinked"),
            on_error=lambda message: QMessageBox.warning(self, "Unlink", message),
        )

    def _changed(self, message: str) -> None:
        self.status(message)
        self.invalidate()

    def link_activity(self, activity_id: int) -> None:
        if self.db is None:
            return
        from ui.link_dialog import LinkDialog

        db = self.db
        dialog = LinkDialog(self)
        self.runner.start(
            lambda _ctx: backend().load_link_candidates(db, activity_id),
            name="link candidates",
            on_result=dialog.set_candidates,
        )
        if dialog.exec() and dialog.chosen is not None and self.detail.detail is not None:
            own = self.detail.detail.records[0].record_id
            chosen = dialog.chosen
            self.runner.start(
                lambda _ctx: backend().link_records(db, [own, chosen]),
                name="link",
                on_result=lambda _r: self._changed("Records linked"),
                on_error=lambda message: QMessageBox.warning(self, "Link", message),
            )

    def pin_value(self, activity_id: int) -> None:
        """Ask which field and what value, then pin it on a worker (the calendar refreshes)."""
        db = self.db
        detail = self.detail.detail
        if db is None or detail is None:
            return
        labels = {"Name": Field.NAME, "Description": Field.DESCRIPTION, "Gear": Field.GEAR}
        label, ok = QInputDialog.getItem(
            self,
            "Pin a value",
            "Field to pin (it wins over every provider):",
            list(labels),
            0,
            False,
        )
        if not ok:
            return
        field = labels[label]
        current = (detail.name or "") if field is Field.NAME else ""
        value, ok = QInputDialog.getText(
            self, "Pin a value", f"{label} (empty: no {label.lower()} on purpose):", text=current
        )
        if not ok:
            return
        self.runner.start(
            lambda _ctx: backend().pin_value(db, activity_id, field, value),
            name="pin",
            on_result=lambda _r: self._changed(f"{label} pinned"),
            on_error=lambda message: QMessageBox.warning(self, "Pin a value", message),
        )

    # ------------------------------------------------------------------ sync
    def _update_sync_actions(self) -> None:
        connected = bool(
            self.last_overview
            and any(
                r.connected and r.provider is not ProviderName.FILE
                for r in self.last_overview.providers
            )
        )
        running = self.sync_handle is not None and self.sync_handle.running
        enabled = self.sync_available and connected and not running and self.db is not None
        self.sync_action.setEnabled(enabled)
        if not self.sync_available:
            tip = "Open a database first"
        elif not connected:
            tip = "Connect a provider in Settings first"
        else:
            tip = "Pull new activities from every connected provider"
        self.sync_action.setToolTip(tip)
        self.sync_action.setStatusTip(tip)
        self.pause_action.setEnabled(self.sync_available)
        self.controller.anything_connected = connected
        self._refresh_tray()

    def sync_now(self, providers: Sequence[ProviderName] | None) -> TaskHandle | None:
        if self.db is None or not self.sync_available or self.connections_factory is None:
            return None
        if self.sync_handle is not None and self.sync_handle.running:
            return self.sync_handle
        db, factory, settings = self.db, self.connections_factory, self.settings
        wanted = list(providers) if providers is not None else None
        self.controller.sync_started(wanted or [], datetime.now(UTC))
        self.status("Syncing…")
        self.sync_handle = self.runner.start(
            lambda ctx: backend().sync_now(db, factory, wanted, ctx, settings),
            name="sync",
            on_progress=self._sync_progress,
            on_result=self._synced,
            on_error=lambda message: self.status(f"Sync failed: {message}"),
            on_finished=self._sync_done,
        )
        self._update_sync_actions()
        return self.sync_handle

    def _sync_progress(self, done: int, total: int, text: str) -> None:
        self.status(text)
        label, _, detail = text.partition(": ")
        for provider, row in self.providers_panel.rows.items():
            if provider.label == label:
                row.show_progress(done, total, detail)

    def _synced(self, outcome: Any) -> None:
        if outcome.proposals is not None:
            self.proposals = outcome.proposals
        lines = [
            f"{line.provider.label}: {line.new} new, {line.updated} updated"
            + (f" ({line.message})" if line.stopped else "")
            for line in outcome.lines
        ]
        self.status("; ".join(lines) or (outcome.problem or "Nothing to sync"))
        self.sync_finished.emit(outcome)

    def _sync_done(self) -> None:
        for row in self.providers_panel.rows.values():
            row.hide_progress()
        self.controller.sync_finished()
        self.invalidate()
        self._update_sync_actions()
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        if not self.sync_available or self.last_overview is None:
            wait_ms = int(self.controller.interval.total_seconds() * 1000)
        else:
            wait = self.controller.next_check_in(datetime.now(UTC), self.last_overview.providers)
            wait_ms = int(wait.total_seconds() * 1000)
        self.sync_timer.start(max(wait_ms, 30_000))

    def background_sync(self) -> None:
        if self.last_overview is not None:
            due = self.controller.due_providers(datetime.now(UTC), self.last_overview.providers)
            if due:
                self.sync_now(due)
                return
        self._schedule_sync()

    def _toggle_pause(self) -> None:
        self.controller.set_paused(self.pause_action.isChecked())
        self._refresh_tray()

    def _refresh_tray(self) -> None:
        """Menu and tooltip together: the tooltip words the pause and a running sync as well as
        the providers, and must not wait for the next overview to stop contradicting the menu."""
        if self.tray is None:
            return
        self.tray.refresh_menu()
        rows = self.last_overview.providers if self.last_overview is not None else ()
        self.tray.set_tooltip(self.controller.tooltip(rows, datetime.now(UTC)))

    def tray_action(self, action: str) -> None:
        match TrayAction(action):
            case TrayAction.OPEN:
                self.bring_to_front()
            case TrayAction.SYNC:
                self.sync_now(None)
            case TrayAction.PAUSE:
                self.pause_action.setChecked(not self.controller.paused)
                self._toggle_pause()
            case TrayAction.QUIT:
                self.quit_app()

    # ------------------------------------------------------------------ dialogs
    def open_settings(self, tab: int | None = None) -> "SettingsDialog | None":
        """The settings dialog, window-modal; saved on a worker when the user presses Save."""
        if self.db is None or self.settings is None:
            return None
        from tracekit.paths import data_dir
        from ui.settings_dialog import SettingsDialog

        rows = self.last_overview.providers if self.last_overview else ()
        dialog = SettingsDialog(
            self.settings,
            data_dir(),
            self.empty.location.text().removeprefix("Database: "),
            self,
            connected=frozenset(r.provider for r in rows if r.connected),
        )
        dialog.connect_requested.connect(lambda provider: self.connect_provider(provider, dialog))
        dialog.disconnect_requested.connect(
            lambda provider: self.disconnect_provider(provider, dialog)
        )
        dialog.accepted.connect(lambda: self.save_settings(dialog.result_settings()))
        if tab is not None:
            dialog.tabs.setCurrentIndex(tab)
        dialog.open()
        return dialog

    def connect_provider(
        self, provider: ProviderName, parent: "SettingsDialog | None" = None
    ) -> QDialog | None:
        """The provider's connect dialog (`ui.connect_dialog`, or the training log's
        `ui.sheet_connect_dialog`), open and window-modal."""
        if self.db is None:
            return None
        from ui.connect_dialog import ConnectDialog
        from ui.sheet_connect_dialog import SheetConnectDialog

        dialog: ConnectDialog | SheetConnectDialog
        if provider is ProviderName.SPREADSHEET:
            home = self.settings.home_timezone if self.settings else None
            dialog = SheetConnectDialog(self.db, self.runner, home, parent or self)
        else:
            dialog = ConnectDialog(provider, self.db, self.runner, parent or self)
        dialog.connected.connect(
            lambda message: self._provider_changed(provider, True, message, parent)
        )
        dialog.open()
        return dialog

    def disconnect_provider(
        self,
        provider: ProviderName,
        parent: "SettingsDialog | None" = None,
        *,
        confirm: bool = True,
    ) -> None:
        if self.db is None:
            return
        if confirm:
            answer = QMessageBox.question(
                parent or self,
                f"Disconnect {provider.label}",
                f"Forget the {provider.label} sign-in? Its activities stay in Tracekit"
                + (
                    " (Strava's are removed, as its terms require, and Strava is told to "
                    "drop Tracekit's access)."
                    if provider is ProviderName.STRAVA
                    else "."
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        db = self.db
        self.runner.start(
            lambda _ctx: backend().disconnect_provider(db, provider),
            name="disconnect",
            on_result=lambda message: self._provider_changed(provider, False, message, parent),
            on_error=lambda message: QMessageBox.warning(parent or self, "Disconnect", message),
        )

    def _provider_changed(
        self,
        provider: ProviderName,
        connected: bool,
        message: str,
        parent: "SettingsDialog | None",
    ) -> None:
        self.status(message)
        if parent is not None:
            parent.set_connected(provider, connected)
        self.invalidate()

    def save_settings(self, settings: "Settings") -> TaskHandle | None:
        if self.db is None:
            return None
        db = self.db
        return self.runner.start(
            lambda _ctx: backend().store_settings(db, settings),
            name="settings",
            on_result=self._settings_stored,
            on_error=lambda message: QMessageBox.warning(self, "Settings", message),
        )

    def _settings_stored(self, settings: "Settings") -> None:
        self.settings = settings
        self.units = settings.units
        self.controller.set_interval(settings.sync_interval_minutes)
        self.calendar.model.set_units(self.units)
        self.invalidate()
        self.settings_saved.emit(settings)

    def review_month(self) -> None:
        from ui.backend import ReviewScope

        year, month = self.current
        first = date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
        self.open_review(ReviewScope(f"{first:%B %Y}", first, last))

    def review_range(self) -> None:
        from ui.diff_dialog import RangeDialog

        dialog = RangeDialog(self)
        if dialog.exec():
            self.open_review(dialog.scope())

    def review_selected(self) -> None:
        if self._selected is not None:
            self.open_review_for([self._selected])
        else:
            QMessageBox.information(self, "Review", "Select an activity in the calendar first.")

    def open_review_for(self, activity_ids: Sequence[int]) -> None:
        from ui.backend import ReviewScope

        label = (
            "the selected activity" if len(activity_ids) == 1 else f"{len(activity_ids)} activities"
        )
        self.open_review(ReviewScope(label, activity_ids=tuple(activity_ids)))

    def open_review(self, scope: Any) -> Any:
        if self.db is None or self.settings is None or self.connections_factory is None:
            return None
        from ui.diff_dialog import DiffDialog, backend_review

        review = backend_review(self.db, self.settings, self.connections_factory)
        dialog = DiffDialog(scope, self.settings, review, self.runner, self)
        dialog.applied.connect(lambda _outcomes: self.invalidate())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.load()
        return dialog

    def open_journal(self) -> Any:
        if self.db is None or self.settings is None or self.connections_factory is None:
            return None
        from ui.journal_window import JournalWindow, backend_journal

        window = JournalWindow(
            backend_journal(self.db, self.settings, self.connections_factory), self.runner, self
        )
        window.undone.connect(lambda _outcome: self.invalidate())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        window.load()
        return window

    def open_demo(self) -> None:
        if getattr(sys, "frozen", False):
            QProcess.startDetached(sys.executable, ["--demo"])
        else:
            QProcess.startDetached(sys.executable, ["-m", "ui", "--demo"])
        self.status("Opening the demo in its own window…")

    def about(self) -> None:
        from tracekit import __version__

        QMessageBox.about(
            self,
            "About Tracekit",
            f"<b>Tracekit {__version__}</b><br>Your training history from every provider, in one "
            "local database.<br><br>Nothing is changed on a provider without your approval.",
        )

    # ------------------------------------------------------------------ window life
    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            decision, hint = self.controller.on_close()
            if decision is CloseDecision.HIDE_TO_TRAY:
                self.save_state()
                self.hide()
                if hint and self.tray is not None:
                    self.tray.show_message(
                        TrayMessage(
                            "Tracekit keeps running",
                            "Tracekit is still syncing in the background. "
                            "Quit it from this icon's menu.",
                        )
                    )
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Remember the window, stop background work (cancelled cleanly), close the database."""
        if self._closing and self.db is None:
            return
        self._closing = True
        self.save_state()
        self.sync_timer.stop()
        self.overview_timer.stop()
        self.runner.cancel_all()
        self.runner.wait(30_000)
        QApplication.processEvents()
        if self.tray is not None:
            self.tray.hide()
        if self.db is not None:
            self.db.dispose()
            self.db = None

    def quit_app(self) -> None:
        self._closing = True
        self.close()
        QApplication.quit()
