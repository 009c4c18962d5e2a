"""The tray icon: state (capturing / paused / locked / error / not running), pause 15 min /
1 h / until resumed, quick chat, open, lock, quit. The tray is only a front end: the capture
service does the work (CONVENTIONS.md 6)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from ui.backends import ServiceRunner, ServiceState
from ui.session import Session
from ui.theme import tray_icon

STATE_ICONS = {"capturing": "tray-capturing", "paused": "tray-paused", "locked": "tray-locked",
               "error": "tray-error", "stopped": "tray-stopped"}


class TrayController(QObject):
    open_requested = Signal()
    quick_chat_requested = Signal()
    lock_requested = Signal()
    quit_requested = Signal()
    capture_now_requested = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._icons: dict[str, QIcon] = {k: tray_icon(k) for k in STATE_ICONS}
        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.status_action = QAction("", self.menu)
        self.status_action.setEnabled(False)
        self.menu.addAction(self.status_action)
        self.menu.addSeparator()
        self.open_action = self.menu.addAction("Open Afterimage")
        self.open_action.triggered.connect(self.open_requested.emit)
        self.chat_action = self.menu.addAction("Quick chat…")
        self.chat_action.triggered.connect(self.quick_chat_requested.emit)
        self.capture_action = self.menu.addAction("Capture now")
        self.capture_action.triggered.connect(self.capture_now_requested.emit)
        self.menu.addSeparator()
        self.pause_actions: list[QAction] = []
        for label, minutes in (("Pause for 15 minutes", 15), ("Pause for 1 hour", 60),
                               ("Pause until resumed", None)):
            action = self.menu.addAction(label)
            action.triggered.connect(lambda _=False, m=minutes: self._pause(m))
            self.pause_actions.append(action)
        self.resume_action = self.menu.addAction("Resume capture")
        self.resume_action.triggered.connect(self._resume)
        self.menu.addSeparator()
        self.lock_action = self.menu.addAction("Lock")
        self.lock_action.triggered.connect(self.lock_requested.emit)
        self.quit_action = self.menu.addAction("Quit Afterimage")
        self.quit_action.triggered.connect(self.quit_requested.emit)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self._error = ""
        self._poll = QTimer(self)
        self._poll.setInterval(5000)
        self._poll.timeout.connect(self.refresh)
        self._poll.start()
        session.locked.connect(self.refresh)
        session.unlocked.connect(self.refresh)
        session.opened.connect(self.refresh)
        self.refresh()

    @property
    def state(self) -> str:
        if self._error:
            return "error"
        if not self._session.has_vault or not self._session.is_unlocked:
            return "locked"
        service = self._session.service
        if service is None:
            return "stopped"
        return {ServiceState.CAPTURING: "capturing", ServiceState.PAUSED: "paused",
                ServiceState.STOPPED: "stopped", ServiceState.ERROR: "error"}[
                    service.status().state]

    def show(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()

    def set_error(self, message: str) -> None:
        self._error = message
        self.refresh()

    def refresh(self) -> None:
        state = self.state
        service = self._session.service
        status = service.status() if service is not None else None
        texts = {"locked": "Locked — capture keeps running if the service is on",
                 "capturing": "Capturing", "paused": "Paused",
                 "stopped": "Not capturing", "error": f"Problem: {self._error}"}
        text = texts[state]
        if state in ("stopped", "paused", "capturing") and status is not None \
                and status.detail:
            text = status.detail
        if status is not None and status.state is ServiceState.ERROR:
            text = f"Problem: {status.detail}"
        elif state == "stopped" and isinstance(service, ServiceRunner) and not service.enabled:
            text += " Turn on continuous capture in Privacy & settings."
        self.status_action.setText(text)
        self.tray.setIcon(self._icons[state])
        self.tray.setToolTip(f"Afterimage — {text}")
        pause_ok = bool(service is not None and service.pause_feature.available)
        for action in self.pause_actions:
            action.setEnabled(pause_ok and state == "capturing")
        self.resume_action.setEnabled(pause_ok and state == "paused")
        if service is not None and not service.pause_feature.available:
            for action in (*self.pause_actions, self.resume_action):
                action.setToolTip(service.pause_feature.note)
        capture_ok = bool(service is not None and service.capture_now_feature.available)
        self.capture_action.setEnabled(capture_ok)
        self.lock_action.setEnabled(self._session.is_unlocked)
        self.chat_action.setEnabled(self._session.has_vault)

    def _pause(self, minutes: int | None) -> None:
        service = self._session.service
        if service is None:
            return
        self._session.run_write(lambda job: service.pause(minutes), lambda _: self.refresh(),
                                on_failure=lambda exc: self.refresh(), notify_changed=False,
                                name="pause")

    def _resume(self) -> None:
        service = self._session.service
        if service is None:
            return
        self._session.run_write(lambda job: service.resume(), lambda _: self.refresh(),
                                on_failure=lambda exc: self.refresh(), notify_changed=False,
                                name="resume")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()
        elif reason == QSystemTrayIcon.ActivationReason.MiddleClick:
            self.quick_chat_requested.emit()

    def hide(self) -> None:
        self._poll.stop()
        self.tray.hide()
