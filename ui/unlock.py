"""The unlock screen: one passphrase field, a clear message on failure, back-off shown live.

The vault waits 1 s after a failed attempt, doubling up to 30 s (SECURITY.md R5). That wait
happens on the key worker, so the window stays responsive and shows a countdown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import WrongPassphrase
from ui.background import user_message
from ui.session import Session
from ui.theme import app_icon

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0


def backoff_after(failures: int) -> float:
    """The wait the vault applies before the next attempt (mirrors core.vault)."""
    if failures <= 0:
        return 0.0
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** min(failures - 1, 16)))


class UnlockScreen(QWidget):
    unlocked = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._failures = 0
        self._wait_left = 0
        self._busy = False
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)

        outer = QVBoxLayout(self)
        outer.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame(self)
        card.setObjectName("unlockCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setMinimumWidth(380)
        card.setMaximumWidth(460)
        lay = QVBoxLayout(card)
        lay.setContentsMargins(32, 28, 32, 28)
        lay.setSpacing(10)
        icon = QLabel(card)
        icon.setPixmap(app_icon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(icon)
        title = QLabel("Afterimage is locked", card)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(title)
        hint = QLabel("Enter your passphrase to see your memories. Capture keeps "
                      "working while the app is locked.", card)
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(hint)
        lay.addSpacing(8)
        self.passphrase = QLineEdit(card)
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase")
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.returnPressed.connect(self.submit)
        lay.addWidget(self.passphrase)
        self.button = QPushButton("Unlock", card)
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        lay.addWidget(self.button)
        self.message = QLabel("", card)
        self.message.setObjectName("unlockMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.message.setMinimumHeight(40)
        lay.addWidget(self.message)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.setTabOrder(self.passphrase, self.button)

    @property
    def failures(self) -> int:
        return self._failures

    def reset(self) -> None:
        self.passphrase.clear()
        self._set_busy(False)
        self.message.setText("")
        self.passphrase.setFocus()

    def submit(self) -> None:
        if self._busy:
            return
        text = self.passphrase.text()
        if not text:
            self.message.setText("Type your passphrase.")
            return
        self._set_busy(True)
        self._wait_left = int(round(backoff_after(self._failures)))
        self._show_checking()
        if self._wait_left:
            self._countdown.start()
        self._session.unlock(text, on_success=self._ok, on_failure=self._failed)

    def _show_checking(self) -> None:
        if self._wait_left > 0:
            self.message.setText(f"Waiting {self._wait_left} s after the failed attempt…")
        else:
            self.message.setText("Checking…")

    def _tick(self) -> None:
        self._wait_left = max(0, self._wait_left - 1)
        if self._wait_left == 0:
            self._countdown.stop()
        if self._busy:
            self._show_checking()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setEnabled(not busy)
        self.passphrase.setReadOnly(busy)

    def _ok(self, _: object) -> None:
        self._failures = 0
        self._countdown.stop()
        self.passphrase.clear()
        self._set_busy(False)
        self.message.setText("")
        self.unlocked.emit()

    def _failed(self, exc: BaseException) -> None:
        self._countdown.stop()
        self._set_busy(False)
        if isinstance(exc, WrongPassphrase):
            self._failures += 1
            wait = backoff_after(self._failures)
            self.message.setText(
                "That passphrase does not unlock this vault. Nothing was changed.\n"
                f"The next try waits {wait:.0f} s.")
            self.passphrase.selectAll()
        else:
            self.message.setText(user_message(exc))
        self.passphrase.setFocus()
