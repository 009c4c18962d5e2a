"""The main window (a first version: the full GUI arrives with the desktop-app issue)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget


@dataclass(frozen=True)
class VaultSummary:
    """What the window shows, built by the caller before the window exists."""

    vault_exists: bool
    memories: int
    data_dir: str


class MainWindow(QMainWindow):
    def __init__(self, summary: VaultSummary) -> None:
        super().__init__()
        self.setWindowTitle("Afterimage")
        self.resize(720, 420)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(48, 48, 48, 48)
        title = QLabel("Afterimage", body)
        font = title.font()
        font.setPointSize(font.pointSize() + 12)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        tagline = QLabel("Remembers what you saw on screen — privately, on this machine.", body)
        tagline.setWordWrap(True)
        layout.addWidget(tagline)
        layout.addSpacing(24)
        if summary.vault_exists:
            text = (f"Your encrypted vault holds {summary.memories} "
                    f"memor{'y' if summary.memories == 1 else 'ies'}.\n\n"
                    "Use the command line while the full app is being built:\n"
                    "  afterimage capture --once\n  afterimage search \"what you remember\"")
        else:
            text = ("No vault yet. Create one with:\n  afterimage init\n\n"
                    "Everything Afterimage stores is encrypted with a key only your "
                    "passphrase unlocks.")
        self.status = QLabel(text, body)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)
        foot = QLabel(f"Data folder: {summary.data_dir}", body)
        foot.setEnabled(False)
        layout.addWidget(foot)
        self.setCentralWidget(body)
