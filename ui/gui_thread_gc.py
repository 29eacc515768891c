"""Cyclic garbage is collected on the GUI thread only.

Python collects cycles in whichever thread happens to allocate past the threshold, and in a Qt
app that is often a worker (an import, a spreadsheet preview). A cycle holding a Qt wrapper
destroyed there deletes a QObject off its thread, which crashes the process. So automatic
collection is switched off, and a timer on the GUI thread collects each generation whenever its
count passes the threshold Python would have used.
"""

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_EVERY_MS = 250


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Back to Python's own collection (tests; the app keeps it until it quits)."""
        self._timer.stop()
        gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold; what was freed."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
