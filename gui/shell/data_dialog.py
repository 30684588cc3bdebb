"""Omniglot on first use: download it (progress, cancel) or point at a folder or zip.

The download runs ``load_omniglot(download=True, progress=..., cancel=...)`` in a worker thread;
a chosen location is checked with ``describe_omniglot`` before it is accepted. Meanwhile the
glyphs and the sinusoid work, and the dialog says so.
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from engine.core.errors import UserError

DOWNLOAD_MB = 16
DIALOG_WIDTH = 600


def _load_omniglot(*args, **kwargs):
    from engine.data.omniglot import load_omniglot

    return load_omniglot(*args, **kwargs)


def _describe_omniglot(path: str) -> dict:
    from engine.data.omniglot import describe_omniglot

    return describe_omniglot(path)


class _ProgressBridge(QObject):
    """Carries progress from the download thread to the dialog (a queued signal)."""

    progress = Signal(int, int, str)


class DataDialog(QDialog):
    """Offers the ways to get Omniglot. Emits ``data_ready(data_dir or None)`` when it is usable."""

    data_ready = Signal(object)  # a folder/zip path (str), or None for the downloaded copy in the cache

    def __init__(
        self,
        problem: str,
        parent: QWidget | None = None,
        *,
        loader: Callable = _load_omniglot,
        describe: Callable[[str], dict] = _describe_omniglot,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get Omniglot")
        self.setFixedWidth(DIALOG_WIDTH)
        self._loader = loader
        self._describe = describe
        self._cancel = threading.Event()
        self._worker = None
        self._bridge = _ProgressBridge()
        self._bridge.progress.connect(self._on_progress)

        intro = QLabel(
            "<b>Omniglot is not here yet.</b> It is 1623 handwritten characters from 50 alphabets "
            "(Lake et al. 2015), about 16 MB in two zips. Glyphs (synthetic) and the sinusoid work "
            "without it in the meantime."
        )
        intro.setWordWrap(True)
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("caption")
        self.download_button = QPushButton(f"Download (about {DOWNLOAD_MB} MB)")
        self.folder_button = QPushButton("Choose folder…")
        self.zip_button = QPushButton("Choose zip…")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.download_button, self.folder_button, self.zip_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        end = QHBoxLayout()
        end.addStretch(1)
        end.addWidget(self.cancel_button)
        end.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(end)

        for label in (intro, self.problem):  # wrapped text: reserve its full height at the dialog's width
            label.setMinimumHeight(label.heightForWidth(DIALOG_WIDTH - 30))

        self.download_button.clicked.connect(self.start_download)
        self.folder_button.clicked.connect(self._choose_folder)
        self.zip_button.clicked.connect(self._choose_zip)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.close_button.clicked.connect(self.reject)

    # -- download -------------------------------------------------------------------------------------
    @property
    def downloading(self) -> bool:
        return self._worker is not None

    def start_download(self) -> None:
        if self._worker is not None:
            return
        self._cancel.clear()
        self._set_busy(True)
        self.status.setText("Downloading…")
        bridge = self._bridge

        def work():
            return self._loader(
                None,
                download=True,
                cancel=self._cancel,
                progress=lambda done, total, label: bridge.progress.emit(int(done), int(total), str(label)),
            )

        self._worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        self._worker.returned.connect(self._on_downloaded)
        self._worker.errored.connect(self._on_download_error)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.start()

    def cancel_download(self) -> None:
        self._cancel.set()
        self.status.setText("Cancelling…")

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self.progress.show()
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            unit = "MB" if label != "decoding" else "images"
            scale = 1e6 if unit == "MB" else 1
            self.status.setText(f"{label}: {done / scale:,.1f} of {total / scale:,.1f} {unit}")
        else:
            self.progress.setRange(0, 0)  # busy indicator
            self.status.setText(f"{label}: {done / 1e6:,.1f} MB")

    def _on_downloaded(self, _arrays) -> None:
        self.status.setText("Omniglot is ready.")
        self.data_ready.emit(None)
        self.accept()

    def _on_download_error(self, exc: Exception) -> None:
        if self._cancel.is_set():
            self.status.setText("Download cancelled; what was fetched is kept and resumes next time.")
        elif isinstance(exc, UserError):
            self.status.setText(f"Could not get Omniglot: {exc}")
        else:
            self.status.setText(f"Could not get Omniglot ({type(exc).__name__}): {exc}")

    def _on_worker_finished(self) -> None:
        self._worker = None
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        for b in (self.download_button, self.folder_button, self.zip_button):
            b.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy or self.progress.value() > 0)

    # -- a local copy ---------------------------------------------------------------------------------------
    def use_location(self, path: str) -> bool:
        """Accept ``path`` (a folder or a zip) if Omniglot there is usable; else say why not."""
        report = self._describe(path)
        if report.get("usable"):
            self.status.setText(f"Using Omniglot from {path}")
            self.data_ready.emit(path)
            self.accept()
            return True
        problems = "; ".join(report.get("problems") or ["no Omniglot found there"])
        self.status.setText(f"Not usable: {problems}")
        return False

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Folder with images_background(.zip) and images_evaluation(.zip)"
        )
        if path:
            self.use_location(path)

    def _choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "An Omniglot zip", "", "Zip archives (*.zip)")
        if path:
            self.use_location(path)

    def reject(self) -> None:
        if self._worker is not None:
            self.cancel_download()
        super().reject()

    def wait_for_download(self, timeout_s: float = 30.0) -> None:
        """Block until a cancelled/finished download thread has ended (used on shutdown)."""
        from PySide6.QtCore import QThreadPool

        if self._worker is not None:
            self._cancel.set()
            QThreadPool.globalInstance().waitForDone(int(timeout_s * 1000))
