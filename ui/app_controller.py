"""Wires the window, the tray, quick chat, idle lock and single instance together.

The app keeps running when its window closes (the tray stays); quitting is explicit.
Locking from anywhere (tray, Ctrl+L, idle) drops every decrypted pixel and text at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from ui.backends import CaptureNowResult, ServiceRunner, ServiceState
from ui.background import user_message
from ui.chat import QuickChat
from ui.desktop_lock import DesktopLock
from ui.gui_settings import GuiSettings
from ui.idle_lock import IdleLock
from ui.main_window import MainWindow
from ui.session import Session
from ui.single_instance import SingleInstance
from ui.theme import Theme
from ui.tray import TrayController

HIDE_BEFORE_CAPTURE_MS = 400


class AppController(QObject):
    def __init__(self, session: Session, window: MainWindow, theme: Theme, prefs: GuiSettings,
                 instance: SingleInstance | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.window = window
        self.theme = theme
        self.prefs = prefs
        self.instance = instance
        self.tray = TrayController(session, self)
        self.quick_chat = QuickChat(session)
        self.idle = IdleLock(prefs.autolock_minutes, self)
        self.idle.idle.connect(self.lock)
        # `afterimage lock`, screen lock and sleep (started by start_desktop_lock()).
        self.desktop_lock: DesktopLock | None = None
        self.tray.open_requested.connect(self.open)
        self.tray.quick_chat_requested.connect(self.open_quick_chat)
        self.tray.lock_requested.connect(self.lock)
        self.tray.quit_requested.connect(self.quit)
        self.tray.capture_now_requested.connect(self.capture_now)
        self.window.lock_requested.connect(self.lock)
        self.window.quit_requested.connect(self.quit)
        self.quick_chat.open_memory.connect(self._open_memory)
        if window.shell is not None:
            self._wire_shell()
        window.shell_built.connect(self._wire_shell)
        session.unlocked.connect(self.idle.reset)
        # The capture service: hand it the sealed privacy lists at unlock; tell the user
        # when the supervisor gives up.
        session.unlocked.connect(self._hand_policy)
        self._service_error = ""
        self._service_timer = QTimer(self)
        self._service_timer.setInterval(2000)
        self._service_timer.timeout.connect(self.check_service)
        self._service_timer.start()
        if instance is not None:
            instance.show_requested.connect(self.open)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setQuitOnLastWindowClosed(False)
            app.aboutToQuit.connect(self._shutdown)

    def _wire_shell(self) -> None:
        shell = self.window.shell
        if shell is None:
            return
        shell.settings.autolock_changed.connect(self.idle.set_minutes)
        shell.settings.capture_now_requested.connect(self.capture_now)

    def start(self) -> None:
        self.tray.show()
        self.window.show()
        self.start_desktop_lock()
        runner = self.session.service
        if self.prefs.capture_enabled and isinstance(runner, ServiceRunner):
            runner.set_enabled(True)  # the user turned continuous capture on earlier

    def _hand_policy(self) -> None:
        runner = self.session.service
        if isinstance(runner, ServiceRunner) and runner.needs_policy():
            self.session.hand_policy_to_service()

    def check_service(self) -> None:
        """Every 2 s: policy handoff when the service waits for it; errors to the user."""
        service = self.session.service
        if service is None:
            return
        if self.session.is_unlocked:
            self._hand_policy()
        status = service.status()
        error = status.detail if status.state is ServiceState.ERROR else ""
        if error and error != self._service_error:
            self.window.show_message(error)
        self._service_error = error
        self.tray.refresh()

    def start_desktop_lock(self, *, use_dbus: bool = True) -> DesktopLock:
        """Serve the ``gui`` lock endpoint and listen for screen lock / sleep (fail soft)."""
        if self.desktop_lock is None:
            session = self.session
            self.desktop_lock = DesktopLock(session.paths.run_dir,
                                            is_locked=lambda: not session.is_unlocked,
                                            use_dbus=use_dbus, parent=self)
            self.desktop_lock.lock_requested.connect(lambda _reason: self.lock())
            self.desktop_lock.start()
        return self.desktop_lock

    def open(self) -> None:
        self.window.bring_to_front()

    def open_quick_chat(self) -> None:
        self.quick_chat.prepare()
        self.quick_chat.show()
        self.quick_chat.raise_()
        self.quick_chat.activateWindow()

    def _open_memory(self, memory_id: str) -> None:
        shell = self.window.shell
        if shell is not None and self.session.is_unlocked:
            self.open()
            shell.open_memory(memory_id, shell.chat)

    def lock(self) -> None:
        if self.session.has_vault:
            self.session.lock()
        self.quick_chat.clear()

    def capture_now(self) -> None:
        """Hide our own windows first: Afterimage never captures itself (R10)."""
        service = self.session.service
        if service is None or not service.capture_now_feature.available:
            return
        was_visible = self.window.isVisible()
        self.window.hide()
        self.quick_chat.hide()

        def run() -> None:
            self.session.run_write(lambda job: service.capture_now(), done, on_failure=failed,
                                   name="capture")

        def restore() -> None:
            if was_visible:
                self.window.show()

        def done(result: CaptureNowResult) -> None:
            restore()
            self.window.show_message(f"Captured {result.stored} screen(s)"
                                     + (f", {result.skipped} unchanged" if result.skipped else "")
                                     + ".")

        def failed(exc: BaseException) -> None:
            restore()
            self.window.show_message(f"Capture failed: {user_message(exc)}")

        QTimer.singleShot(HIDE_BEFORE_CAPTURE_MS, run)

    def quit(self) -> None:
        self.window.keep_running_on_close = False
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def dispose(self) -> None:
        """Release the top-level pieces the controller owns (tray menu, quick chat)."""
        self._service_timer.stop()
        if self.desktop_lock is not None:
            self.desktop_lock.stop()
            self.desktop_lock = None
        self.idle.set_minutes(0)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
        self.tray.hide()
        self.tray.tray.setContextMenu(None)  # type: ignore[arg-type]
        self.tray.menu.deleteLater()
        self.quick_chat.deleteLater()

    def _shutdown(self) -> None:
        self.dispose()
        self.prefs.sync()
        self.session.close()
        if self.instance is not None:
            self.instance.release()
