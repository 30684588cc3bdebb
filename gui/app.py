"""``innerloop``: start the desktop app, or take a screenshot of a preset after it trained a while.

    innerloop [--preset NAME] [--data-dir PATH] [--presenter]
    innerloop --list-presets
    innerloop --screenshot OUT.png [--preset NAME] [--run-for SECONDS] [--size 1600x1000] [--presenter]
    (both take --threads N, torch's CPU threads, as innerloop-cli does)

``--list-presets`` prints the preset names (built-in, then the user's own), one a line, and exits
without opening a window; a preset file of the user's that cannot be used is named on stderr and
skipped. ``--preset`` takes a name or a title.

The screenshot mode works offscreen (it picks ``QT_QPA_PLATFORM=offscreen`` itself): it builds the run, trains
for ``--run-for`` seconds, pauses, waits for the per-step trace of the paused state, saves the
main window as a PNG and exits 0 (2 on a bad option, 1 if the picture could not be written or
the window showed an error, which is printed; the picture is written all the same).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from engine.runtime.allocator import keep_freed_memory
from gui.shell.display_check import choose_platform, display_problem
from gui.shell.presets import DEFAULT_PRESET, PRESETS, find_preset, user_presets
from gui.shell.settings import report


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size wants WIDTHxHEIGHT, e.g. 1600x1000, got {text!r}") from None
    if w < 400 or h < 300:
        raise argparse.ArgumentTypeError("--size must be at least 400x300")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="innerloop", description="Inner Loop: a desktop studio for meta-learning."
    )
    parser.add_argument("--preset", metavar="NAME", help="open a preset (see --list-presets)")
    parser.add_argument(
        "--list-presets", action="store_true", help="print the preset names, one a line, and exit"
    )
    parser.add_argument(
        "--presenter", action="store_true", help="start in presenter mode (large type, few controls)"
    )
    parser.add_argument(
        "--data-dir", help="Omniglot folder or zip (else the remembered one, $INNERLOOP_DATA or the cache)"
    )
    parser.add_argument("--screenshot", metavar="OUT.png", help="train, save the window as a PNG and exit")
    parser.add_argument(
        "--run-for",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="with --screenshot: seconds of training before the picture (default 5)",
    )
    parser.add_argument("--size", type=_size, default=None, metavar="WxH", help="window size, e.g. 1600x1000")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: one core fewer than the machine has, leaving one "
        "for the window; $OMP_NUM_THREADS when set)",
    )
    return parser


class _Screenshot:
    """Drives the window through build → train → pause → trace → picture → close."""

    def __init__(self, app: QApplication, window, path: str, run_for: float) -> None:
        self.app, self.window, self.path, self.run_for = app, window, path, run_for
        self.phase = "building"
        self.deadline = time.monotonic() + 300.0  # a build that never ends still gives a picture
        self.played_at = 0.0
        self.paused_at = 0.0
        self.exit_code = 0
        self.errors: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        session = self.window.session
        now = time.monotonic()
        self._note_error()
        if self.phase == "building":
            if session is not None and session.info is not None:
                if (self.run_for > 0) != session.playing:  # a preset may train from the start
                    self.window.play_pause()
                self.played_at = now
                self.phase = "training"
            elif session is None or session.is_over or now > self.deadline:
                self._shoot()
        elif self.phase == "training":
            if now - self.played_at >= self.run_for or session.is_over:
                if session.playing:
                    self.window.play_pause()
                self.paused_at = now
                self.phase = "tracing"
        elif self.phase == "tracing":
            trace = session.latest_trace
            current = (
                trace is not None
                and trace.iteration >= session.iteration
                and self.window.shown_trace is trace
            )
            explorer = self.window.second_order_view
            if explorer is not None and explorer.isVisible() and not explorer.surface_current:
                current = False  # the explorer's surface is still being computed
            if (current and now - self.paused_at > 0.3) or now - self.paused_at > 20.0:
                self._shoot()

    def _note_error(self) -> None:
        notice = self.window.notice
        if notice.isVisible() and notice.level == "error" and notice.text.text() not in self.errors:
            self.errors.append(notice.text.text())

    def _shoot(self) -> None:
        self.timer.stop()
        self.phase = "done"
        self.window.tick()
        self.window.curves.refresh(force=True)
        self.app.processEvents()
        self._note_error()
        if not self.window.grab().save(self.path, "PNG"):
            print(f"innerloop: could not write {self.path}", file=sys.stderr)
            self.exit_code = 1
        else:
            session = self.window.session
            it = 0 if session is None else session.iteration
            print(f"innerloop: wrote {self.path} at meta-iteration {it:,}")
        for error in self.errors:
            print(f"innerloop: the window showed an error: {error}", file=sys.stderr)
            self.exit_code = 1
        self.window.close()
        self.app.exit(self.exit_code)


def _size_torch_threads(requested: int | None) -> None:
    """Leave a core to the window: torch's OpenMP threads spin, and on a busy machine a pool as
    large as the machine stalls training (measured: 3 vs 267 glyph iterations in 40 s on 2 cores)."""
    if requested is None and os.environ.get("OMP_NUM_THREADS"):
        return
    import torch  # only to size its thread pool, as innerloop-cli --threads does

    threads = requested if requested else min(torch.get_num_threads(), max(1, (os.cpu_count() or 1) - 1))
    torch.set_num_threads(max(1, threads))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_presets:
        users, problems = user_presets()
        report(problems)
        print("\n".join([*PRESETS, *users]))
        return 0
    if args.preset is not None:
        try:
            args.preset = find_preset(args.preset).name
        except KeyError as exc:
            report(user_presets()[1])  # perhaps the one asked for is among the files skipped
            parser.error(str(exc.args[0]))
    choose_platform(os.environ, screenshot=args.screenshot is not None)
    problem = None if QApplication.instance() else display_problem(os.environ)
    if problem is not None:
        print(f"innerloop: {problem}", file=sys.stderr)
        return 2
    _size_torch_threads(args.threads)
    keep_freed_memory()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inner Loop")
    app.setOrganizationName("InnerLoop")
    from gui.gui_thread_gc import collect_in_gui_thread
    from gui.shell.main_window import MainWindow
    from gui.theme import apply_theme

    apply_theme(app)
    collect_in_gui_thread(app)
    shooting = args.screenshot is not None
    window = MainWindow(
        preset=args.preset or (None if not shooting else DEFAULT_PRESET),
        data_dir=args.data_dir,
        persist=not shooting,
        offer_data_dialog=not shooting,
    )
    if shooting:
        window.close_decision = lambda _session: None
    if args.size is not None:
        window.resize(*args.size)
    elif shooting:
        window.resize(1600, 1000)
    window.show()
    if args.presenter:
        window.presenter.enter()
    shot = _Screenshot(app, window, args.screenshot, args.run_for) if shooting else None
    quit_on_close = app.quitOnLastWindowClosed()
    if shooting:
        # The screenshot ends the loop itself; a second, implicit quit from closing the last
        # window leaves a reused QApplication (a test session) unable to deliver queued signals.
        app.setQuitOnLastWindowClosed(False)
    try:
        code = app.exec()
    finally:
        app.setQuitOnLastWindowClosed(quit_on_close)
    return shot.exit_code if shot is not None else code


if __name__ == "__main__":
    sys.exit(main())
