"""Start-up timing for `bench/bench_gui.py`: set TRACEKIT_STARTUP_PROBE=<file.json> and the app
writes when its window was first painted and when the first month was painted, then quits.

Times are `time.time()` so the benchmark can subtract the moment it started the process.
"""

import json
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow


class StartupProbe(QObject):
    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self.window = window
        self.path = path
        self.marks: dict[str, float] = {"probe": time.time()}
        window.installEventFilter(self)
        window.month_shown.connect(self._month_shown)
        window.opened.connect(self._opened)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint:
            self.marks.setdefault("painted", time.time())
        return False

    def _opened(self) -> None:
        self.marks["opened"] = time.time()
        if self.window.pages.currentWidget() is self.window.empty:
            self._finish()

    def _month_shown(self, _data: object) -> None:
        if "month" in self.marks:
            return
        self.window.calendar.view.viewport().repaint()  # the month's cells, painted now
        self.marks["month"] = time.time()
        self._finish()

    def _finish(self) -> None:
        self.path.write_text(json.dumps(self.marks))
        QTimer.singleShot(0, QApplication.quit)
