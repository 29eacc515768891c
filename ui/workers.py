"""Background work: every import, sync, match, apply and query runs as a QRunnable.

A task is a plain function `fn(context) -> result` (usually from `ui.backend`) that opens its
own database session. It reports progress through the context, checks `context.cancelled()`
between units of work, and returns a value or raises. The runnable's signals are received by a
`TaskHandle` that lives in the GUI thread, so every callback runs on the GUI thread whatever
the emitting thread; progress is throttled so a 2,000-file import does not flood the event loop.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.05


class Cancelled(Exception):
    """Raised by a task that stopped because it was asked to."""


class TaskContext:
    """What a task function sees: progress reporting and the cancel flag."""

    def __init__(self, emit_progress: Callable[[int, int, str], None]) -> None:
        self._emit = emit_progress
        self._cancel = threading.Event()
        self._last = 0.0

    def progress(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._emit(done, total, text)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def cancel(self) -> None:
        self._cancel.set()


class _Signals(QObject):
    progress = Signal(int, int, str)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], signals: _Signals, name: str) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn = fn
        self.signals = signals
        self.name = name
        self.context = TaskContext(signals.progress.emit)

    def run(self) -> None:
        try:
            result = self.fn(self.context)
        except Cancelled:
            self.signals.error.emit("Cancelled")
        except Exception as exc:
            log.exception("task %s failed", self.name)
            self.signals.error.emit(str(exc) or type(exc).__name__)
        else:
            self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


class TaskHandle(QObject):
    """The GUI-thread end of one task: re-emits its signals and can cancel it."""

    progress = Signal(int, int, str)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.running = True
        self.outcome: object = None
        self.failure: str | None = None
        self._context: TaskContext | None = None

    def cancel(self) -> None:
        if self._context is not None:
            self._context.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._context is not None and self._context.cancelled()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.emit(done, total, text)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        self.outcome = value
        self.result.emit(value)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.failure = message
        self.error.emit(message)

    @Slot()
    def _on_finished(self) -> None:
        self.running = False
        self.finished.emit()


class TaskRunner(QObject):
    """Starts tasks on a thread pool and keeps their handles alive until they finish.

    Give it a parent (the window or dialog that owns the work): a parentless, Python-owned
    runner in a reference cycle can be collected by the cyclic GC on a worker thread, which
    would destroy its QObjects off the GUI thread.
    """

    busy_changed = Signal(bool)

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._active: set[TaskHandle] = set()
        self._signals: dict[TaskHandle, _Signals] = {}

    def start(
        self,
        fn: Callable[[TaskContext], Any],
        *,
        name: str,
        on_result: Callable[[Any], object] | None = None,
        on_error: Callable[[str], object] | None = None,
        on_progress: Callable[[int, int, str], object] | None = None,
        on_finished: Callable[[], object] | None = None,
    ) -> TaskHandle:
        handle = TaskHandle(name, self)
        # Parented to the runner (GUI thread): the runnable's reference may be dropped on the
        # worker thread, and a QObject must never be destroyed from another thread.
        signals = _Signals(self)
        signals.progress.connect(handle._on_progress)
        signals.result.connect(handle._on_result)
        signals.error.connect(handle._on_error)
        signals.finished.connect(handle._on_finished)
        if on_progress is not None:
            handle.progress.connect(on_progress)
        if on_result is not None:
            handle.result.connect(on_result)
        if on_error is not None:
            handle.error.connect(on_error)
        if on_finished is not None:
            handle.finished.connect(on_finished)
        handle.finished.connect(lambda: self._forget(handle))
        runnable = _Runnable(fn, signals, name)
        handle._context = runnable.context
        self._active.add(handle)
        self._signals[handle] = signals
        if len(self._active) == 1:
            self.busy_changed.emit(True)
        self.pool.start(runnable)
        return handle

    def _forget(self, handle: TaskHandle) -> None:
        self._active.discard(handle)
        signals = self._signals.pop(handle, None)
        if signals is not None:
            signals.deleteLater()
        handle.deleteLater()
        if not self._active:
            self.busy_changed.emit(False)

    @property
    def active(self) -> list[TaskHandle]:
        return list(self._active)

    def cancel_all(self) -> None:
        for handle in list(self._active):
            handle.cancel()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every started task has returned (used when quitting)."""
        return self.pool.waitForDone(timeout_ms)
