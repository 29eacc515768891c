"""Cycles are collected on the GUI thread, never on a worker that happens to allocate."""

import gc
import threading
import weakref

from ui.gui_thread_gc import GuiThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_a_worker_allocating_past_the_threshold_collects_nothing_the_gui_thread_does(
    gc_on_the_gui_thread: GuiThreadCollector,
) -> None:
    node = _Node()
    alive = weakref.ref(node)
    del node
    threshold = gc.get_threshold()[0]

    def allocate() -> None:
        kept = [[] for _ in range(threshold * 20)]  # many generation-0 passes' worth
        del kept

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert alive() is not None  # the worker did not collect it

    gc.collect()  # here, on the GUI thread, it goes
    assert alive() is None
