"""Cyclic garbage is collected in the GUI thread only (gui/gui_thread_gc.py): a worker thread that allocates
never sets off a collection that could free Qt objects behind the GUI thread's back."""

from __future__ import annotations

import gc
import threading

from gui_conftest import *  # noqa: F401,F403

from gui.gui_thread_gc import collect_in_gui_thread


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_worker_threads_allocations_collect_nothing_and_the_gui_thread_collects(qtbot, qapp):
    collector = collect_in_gui_thread(qapp)
    assert not gc.isenabled() and collector.timer.isActive()
    collected_in: list[str] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(200_000)], name="worker")
        worker.start()
        worker.join()
        assert "worker" not in collected_in  # automatically, 200,000 cycles would have collected there
        assert gc.get_count()[0] > collector.thresholds[0]
        qtbot.waitUntil(lambda: "MainThread" in collected_in, timeout=5_000)  # the GUI thread's timer
    finally:
        gc.callbacks.remove(note)
    assert set(collected_in) == {"MainThread"}


def test_stopping_gives_back_automatic_collection(qapp):
    collector = collect_in_gui_thread(qapp)
    collector.stop()
    assert gc.isenabled() and not collector.timer.isActive()
    assert collect_in_gui_thread(qapp) is collector and not gc.isenabled()
