"""What the window says: the notice area for what must be read, the status bar for the rest.

``Messages`` is given the notice bar and the status bar it writes to, and ``get_data`` (the data
dialog) for a notice that offers to get Omniglot; the run model's notices (``RunNotice``), the preset
menu's errors and the files skipped at start all go through it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QStatusBar

from gui.run.run_model import RunNotice
from gui.shell.notice import NoticeBar, Topic
from gui.shell.settings import report

NOTICE_PROBLEMS = 3  # skipped files named in the notice area; all of them in its tooltip and on stderr


class Messages:
    def __init__(self, notice: NoticeBar, status_bar: QStatusBar, get_data: Callable[[str], object]) -> None:
        self.notice = notice
        self.status_bar = status_bar
        self.get_data = get_data

    def error(
        self, message: str, *, action: str | None = None, callback=None, topic: Topic = Topic.GENERAL
    ) -> None:
        self.notice.show_message("error", message, action=action, callback=callback, topic=topic)
        self.status_bar.showMessage(message.splitlines()[0][:200])

    def info(self, message: str) -> None:
        self.notice.show_message("info", message)

    def run_notice(self, notice: RunNotice) -> None:
        """A notice of the run model's; one about missing Omniglot offers to get it."""
        if notice.level != "error":
            self.info(notice.text)
        elif notice.data_help is not None:
            help_text = notice.data_help
            self.error(notice.text, action="Get Omniglot…", callback=lambda: self.get_data(help_text))
        else:
            self.error(notice.text, topic=notice.topic)

    def clear(self, topic: Topic | None) -> None:
        """Clear the notice about ``topic`` (None: whatever it is)."""
        if topic is None:
            self.notice.clear()
        else:
            self.notice.clear_topic(topic)

    def problems(self, problems: list[str]) -> None:
        """Files (settings, presets) that were skipped: one line each in the notice area, the first in the
        status bar, and each printed once to stderr."""
        if not problems:
            return
        lines = report(problems)
        shown = lines[:NOTICE_PROBLEMS]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown)} more (hover to see them all)")
        self.notice.show_message("warning", "\n".join(shown), details="\n".join(lines))
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        self.status_bar.showMessage(lines[0] + more)
