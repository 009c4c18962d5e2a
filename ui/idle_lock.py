"""Lock after a stretch without input to the app (the in-app part of auto-lock, R5).

Locking on screen lock and system sleep comes with the vault issue's auto-lock; this
watches our own windows' keyboard and mouse input.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
          QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class IdleLock(QObject):
    idle = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle.emit)
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def minutes(self) -> int:
        return self._minutes

    def set_minutes(self, minutes: int) -> None:
        self._minutes = max(0, minutes)
        self.reset()

    def set_interval_ms(self, msecs: int) -> None:
        """For tests: a short interval."""
        self._timer.setInterval(msecs)
        self._timer.start()

    def reset(self) -> None:
        if self._minutes == 0:
            self._timer.stop()
            return
        self._timer.start(self._minutes * 60_000)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _INPUT and self._timer.isActive():
            self._timer.start()
        return False
