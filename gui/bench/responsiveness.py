"""Is the window still responsive while training runs flat out, and what does the window cost?

    python -m gui.bench.responsiveness --seconds 60 [--preset sinusoid-demo] [--rounds 2]

Alternates headless segments (iterating ``Trainer.run()`` with no Qt at all) with GUI segments
(the full main window playing the same config, offscreen unless a display is set), ``--rounds``
of each, ``--seconds`` in all. During GUI segments a 10 ms precise QTimer on the GUI thread
records how late each tick fires; the report gives the 99th percentile and the worst delay, and
the training throughput of both (iterations per second, build and the first iterations excluded).
Goal: p99 <= 50 ms, worst <= 200 ms, GUI throughput within 10% of headless.

A benchmark, not a test: numbers depend on the machine and on whatever else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
WARMUP_ITERATIONS = 5  # not timed: first iterations pay for allocations and lazy initialisation


def _config(preset: str, device: str):
    from gui.shell.presets import get_preset

    return get_preset(preset).config().with_changes(device=device, iterations=10_000_000)


def headless_segment(config, seconds: float) -> dict:
    """Iterations per second of ``Trainer.run()`` with nothing else in the process doing work."""
    from engine.core.snapshots import TrainingSnapshot
    from engine.run.training import Trainer

    trainer = Trainer(config)
    run = trainer.run()
    start_t = start_i = None
    last_i = 0
    try:
        for event in run:
            if not isinstance(event, TrainingSnapshot):
                continue
            now = time.perf_counter()
            last_i = event.iteration
            if start_t is None and event.iteration >= WARMUP_ITERATIONS:
                start_t, start_i = now, event.iteration
            if start_t is not None and now - start_t >= seconds:
                break
    finally:
        run.close()
    elapsed = time.perf_counter() - start_t
    return {"iterations": last_i - start_i, "seconds": elapsed, "it_per_s": (last_i - start_i) / elapsed}


def gui_segment(app, config, seconds: float, *, stalls: bool = False, all_views: bool = False) -> dict:
    """Play the main window for ``seconds``; measure GUI-thread timer lateness and throughput."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from gui.shell.main_window import MainWindow

    window = MainWindow(config=config, persist=False, offer_data_dialog=False)
    window.close_decision = lambda _session: None
    window.resize(1600, 1000)
    window.show()
    if all_views:  # every view of gui.shell.lazy_views open beside the run, as docks (floating)
        from gui.shell.lazy_views import LAZY_VIEW_KEYS

        for key in LAZY_VIEW_KEYS:
            window.show_view(key)
    deadline = time.monotonic() + 600
    while (
        window.session.info is None or window.session.latest_trace is None
    ) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if window.session.info is None:
        raise SystemExit(f"the run could not be built: {window.session.outcome}")
    window.play_pause()
    while window.session.iteration < WARMUP_ITERATIONS and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)

    clock = QElapsedTimer()
    clock.start()
    ticks: list[int] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed()))
    watchdog = StallWatchdog(lambda: ticks[-1] / 1e9 if ticks else None, clock) if stalls else None
    start_i, start_t, start_cpu = window.session.iteration, time.perf_counter(), time.thread_time()
    timer.start()
    ticks.append(clock.nsecsElapsed())
    if watchdog:
        watchdog.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()  # a real event loop, as the app runs: idle means asleep, not spinning
    timer.stop()
    if watchdog:
        watchdog.stop()
    end_i, end_t, gui_cpu = window.session.iteration, time.perf_counter(), time.thread_time() - start_cpu
    window.close()
    app.processEvents()
    intervals = np.diff(np.asarray(ticks, dtype=np.int64)) / 1e6
    delays = np.maximum(intervals - TICK_MS, 0.0)
    return {
        "iterations": end_i - start_i,
        "seconds": end_t - start_t,
        "it_per_s": (end_i - start_i) / (end_t - start_t),
        "delays_ms": delays.tolist(),
        "gui_thread_cpu": gui_cpu / (end_t - start_t),
        "stalls": watchdog.samples if watchdog else [],
    }


class StallWatchdog:
    """Where every thread is when the GUI thread's 10 ms timer is more than ``STALL_MS`` late.

    A background thread polls the last tick; on a stall it records each thread's innermost
    frames (``sys._current_frames``), once per stall. The GUI thread found in the event loop
    means it waited for the GIL (another thread's Python held it); found in a function, that
    function is the stall.
    """

    STALL_MS = 80

    def __init__(self, last_tick, clock) -> None:
        import threading

        self.last_tick, self.clock = last_tick, clock
        self.gui_ident = threading.get_ident()
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        import traceback

        flagged = None
        while not self._stop.wait(0.02):
            last = self.last_tick()
            now = self.clock.nsecsElapsed() / 1e9
            if last is None or (now - last) * 1000 < self.STALL_MS or flagged == last:
                continue
            flagged = last
            frames = sys._current_frames()
            sample = {"late_ms": (now - last) * 1000}
            for ident, frame in frames.items():
                stack = traceback.extract_stack(frame)[-6:]
                where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
                sample["gui" if ident == self.gui_ident else f"thread {ident}"] = where
            self.samples.append(sample)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gui.bench.responsiveness", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="total measured time, split over the segments"
    )
    parser.add_argument("--preset", default="sinusoid-demo")
    parser.add_argument("--rounds", type=int, default=2, help="headless/GUI segment pairs (alternated)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads for both kinds of segment (default: as the app, one core fewer than "
        "the machine has; $OMP_NUM_THREADS when set)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument(
        "--all-views", action="store_true", help="open every view of the View menu beside the run"
    )
    parser.add_argument(
        "--stalls",
        action="store_true",
        help="record where every thread is when the GUI timer is over 80 ms late, and list the "
        "most frequent places",
    )
    args = parser.parse_args(argv)

    import torch  # only to report the thread count, the same for both kinds of segment
    from PySide6.QtWidgets import QApplication

    import gui  # noqa: F401  (the PySide6 guard, before any Qt object exists)
    from gui.app import _size_torch_threads
    from gui.theme import apply_theme

    _size_torch_threads(args.threads)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    config = _config(args.preset, args.device)
    segment = args.seconds / (2 * args.rounds)
    print(
        f"{config.label()} on {args.device}, {torch.get_num_threads()} torch thread(s), "
        f"{os.cpu_count()} cores; {args.rounds} x ({segment:.0f} s headless + {segment:.0f} s GUI)",
        flush=True,
    )
    headless, shown = [], []
    for r in range(args.rounds):
        h = headless_segment(config, segment)
        headless.append(h)
        print(f"  round {r + 1}: headless {h['it_per_s']:8.1f} it/s", flush=True)
        g = gui_segment(app, config, segment, stalls=args.stalls, all_views=args.all_views)
        shown.append(g)
        d = np.asarray(g["delays_ms"])
        print(
            f"  round {r + 1}: GUI      {g['it_per_s']:8.1f} it/s   "
            f"timer delay p99 {np.percentile(d, 99):6.1f} ms, worst {d.max():6.1f} ms ({len(d)} ticks), "
            f"GUI thread CPU {100 * g['gui_thread_cpu']:.0f}%",
            flush=True,
        )
    h_rate = sum(h["iterations"] for h in headless) / sum(h["seconds"] for h in headless)
    g_rate = sum(g["iterations"] for g in shown) / sum(g["seconds"] for g in shown)
    delays = np.concatenate([np.asarray(g["delays_ms"]) for g in shown])
    report = {
        "config": config.label(),
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "headless_it_per_s": h_rate,
        "gui_it_per_s": g_rate,
        "gui_vs_headless": g_rate / h_rate,
        "timer_ticks": int(len(delays)),
        "delay_p50_ms": float(np.percentile(delays, 50)),
        "delay_p99_ms": float(np.percentile(delays, 99)),
        "delay_worst_ms": float(delays.max()),
    }
    ok = report["delay_p99_ms"] <= 50 and report["delay_worst_ms"] <= 200 and report["gui_vs_headless"] >= 0.9
    print(
        f"headless {h_rate:.1f} it/s · GUI {g_rate:.1f} it/s "
        f"({100 * report['gui_vs_headless']:.0f}% of headless) · 10 ms timer delay "
        f"p50 {report['delay_p50_ms']:.1f} ms, p99 {report['delay_p99_ms']:.1f} ms, "
        f"worst {report['delay_worst_ms']:.1f} ms · goals {'met' if ok else 'NOT met'}"
    )
    if args.stalls:
        samples = [sample for g in shown for sample in g["stalls"]]
        report["stalls"] = samples
        print(f"{len(samples)} stalls over {StallWatchdog.STALL_MS} ms; where the GUI thread was:")
        for where, count in Counter(s["gui"] for s in samples).most_common(8):
            print(f"  {count:3d} x {where}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
