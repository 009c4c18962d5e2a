"""The model manager in Privacy & settings: the catalog, what is installed, download with a
progress bar (checksums pinned in the catalog, resumable), cancel, verify and remove.

Downloads are the only network use of the app and start only from this panel (or
`afterimage models download`); everything runs through the session's background helper.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.models.installed import ModelStatus
from ui.background import Handle, user_message
from ui.forget import human_bytes
from ui.session import Session

KINDS = {"chat": "chat", "caption": "captions", "image-embedding": "image search"}


class ModelsPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._status: dict[str, ModelStatus] = {}
        self._download: Handle[object] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTreeWidget(self)
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Model", "For", "Size", "State"])
        self.table.setMinimumHeight(150)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.table)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.verify_button = QPushButton("Verify", self)
        self.remove_button = QPushButton("Remove", self)
        for button, slot in ((self.download_button, self.download),
                             (self.cancel_button, self.cancel),
                             (self.verify_button, self.verify),
                             (self.remove_button, self.remove)):
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        lay.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        lay.addWidget(self.progress)
        self.status = QLabel("Downloads start only when you ask; each file's checksum is "
                             "checked before it is used.", self)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.refresh()

    # ------------------------------------------------------------------ state
    def refresh(self) -> None:
        self._session.model_status(self._show)

    def _show(self, statuses: list[ModelStatus]) -> None:
        selected = self.selected()
        self._status = {s.name: s for s in statuses}
        self.table.clear()
        for s in statuses:
            size = human_bytes(s.size_bytes) if s.size_bytes else "size unknown"
            state = "installed" if s.installed else "not installed"
            if not s.pinned:
                state += " (no pinned checksum)"
            item = QTreeWidgetItem([s.title, KINDS.get(s.kind, s.kind), size, state])
            item.setData(0, Qt.ItemDataRole.UserRole, s.name)
            item.setToolTip(0, f"{s.name} · {s.license}")
            self.table.addTopLevelItem(item)
            if s.name == selected:
                self.table.setCurrentItem(item)
        for col in range(4):
            self.table.resizeColumnToContents(col)
        self._update_buttons()

    def selected(self) -> str | None:
        item = self.table.currentItem()
        return None if item is None else str(item.data(0, Qt.ItemDataRole.UserRole))

    def _update_buttons(self) -> None:
        name = self.selected()
        status = self._status.get(name or "")
        busy = self._download is not None
        self.download_button.setEnabled(status is not None and not status.installed
                                        and not busy)
        self.cancel_button.setEnabled(busy)
        self.verify_button.setEnabled(status is not None and status.installed and not busy)
        self.remove_button.setEnabled(status is not None and status.installed and not busy)

    # ---------------------------------------------------------------- actions
    def download(self) -> None:
        name = self.selected()
        status = self._status.get(name or "")
        if name is None or status is None:
            return
        allow_unpinned = False
        if not status.pinned:
            answer = QMessageBox.question(
                self, "No pinned checksum",
                f"{status.title} has no checksum pinned in the catalog, so Afterimage cannot "
                "check that the file is the one it should be. Download it anyway? (Its "
                "checksum is then recorded so later changes are detected.)")
            if answer != QMessageBox.StandardButton.Yes:
                return
            allow_unpinned = True
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText(f"Downloading {status.title}…")
        self._download = self._session.download_model(
            name, allow_unpinned=allow_unpinned, on_success=self._downloaded,
            on_failure=self._failed, on_progress=self._on_progress)
        self._update_buttons()

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{human_bytes(done)} of {human_bytes(total)}")
        else:
            self.progress.setRange(0, 0)

    def _finish(self, text: str) -> None:
        self._download = None
        self.progress.setVisible(False)
        self.status.setText(text)
        self.refresh()

    def _downloaded(self, _: object) -> None:
        self._finish("Downloaded and checked. Choose it in config.toml ([chat], "
                     "[consolidation] or [embed]) or with `afterimage ask --model`.")

    def _failed(self, exc: BaseException) -> None:
        self._finish(f"Not downloaded: {user_message(exc)}")

    def cancel(self) -> None:
        if self._download is not None:
            self._download.cancel()
            self._finish("Download cancelled; it resumes where it stopped next time.")

    def verify(self) -> None:
        name = self.selected()
        if name is None:
            return
        self.status.setText("Checking…")
        self._session.verify_model(name, on_success=self._verified,
                                   on_failure=lambda exc: self.status.setText(
                                       f"Not checked: {user_message(exc)}"))

    def _verified(self, problems: list[str]) -> None:
        self.status.setText("The files match their checksums." if not problems
                            else "Problems: " + "; ".join(problems))

    def remove(self) -> None:
        name = self.selected()
        status = self._status.get(name or "")
        if name is None or status is None:
            return
        answer = QMessageBox.question(self, "Remove model",
                                      f"Remove {status.title} from this computer?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._session.remove_model(name, on_success=lambda _: self._finish(
            f"Removed {status.title}."), on_failure=self._failed)
