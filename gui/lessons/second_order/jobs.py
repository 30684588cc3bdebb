"""Surfaces off the GUI thread: one background job at a time, the latest request wins, results cached.

``request(world)`` answers at once from the cache (keyed by the world, which includes α and every
bowl; a ``SurfaceSet`` holds all K), else queues the world; while a job runs, newer requests replace
the queued one, so dragging the α slider computes the first and the last value, not every step
between. ``ready`` carries each finished ``SurfaceSet``; the view shows it if it is still current.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import FunctionWorker, create_worker

from gui.lessons.second_order.surfaces import GRID, SurfaceSet, compute_surfaces

CACHE_SIZE = 32


class SurfaceJobs(QObject):
    ready = Signal(object)  # SurfaceSet
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, resolution: int = GRID) -> None:
        super().__init__(parent)
        self.resolution = resolution
        self._cache: OrderedDict[tuple, SurfaceSet] = OrderedDict()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._worker: FunctionWorker | None = None
        self._running_key: tuple | None = None
        self._queued = None  # the world to compute next
        self._closed = False
        self.computed = 0  # jobs finished (for tests and the benchmark)

    @property
    def busy(self) -> bool:
        return self._running_key is not None or self._queued is not None

    def cached(self, key: tuple) -> SurfaceSet | None:
        return self._cache.get(key)

    def request(self, world) -> SurfaceSet | None:
        """The surfaces of ``world`` if cached; otherwise None, and ``ready`` fires when they are."""
        key = world.key()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self._queued = None
            return hit
        if self._closed or key == self._running_key:
            self._queued = None
            return None
        self._queued = world
        if self._running_key is None:
            self._start_queued()
        return None

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop taking work and wait for the running job; True if none is left."""
        self._closed = True
        self._queued = None
        return self._pool.waitForDone(timeout_ms)

    def _start_queued(self) -> None:
        world, self._queued = self._queued, None
        if world is None or self._closed:
            return
        self._running_key = world.key()
        worker = create_worker(compute_surfaces, world, self.resolution, _start_thread=False)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        self._worker = worker
        self._pool.start(worker)

    def _on_returned(self, surfaces: SurfaceSet) -> None:
        self._running_key = None
        self._worker = None
        self.computed += 1
        self._cache[surfaces.key] = surfaces
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if self._closed:
            return
        self._start_queued()
        self.ready.emit(surfaces)

    def _on_errored(self, exc: Exception) -> None:
        self._running_key = None
        self._worker = None
        if self._closed:
            return
        self._start_queued()
        self.failed.emit(f"The loss surfaces could not be computed: {exc}")
