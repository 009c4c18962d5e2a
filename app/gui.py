"""Launch the desktop app: one instance per user and data folder, a tray icon, the window."""

from __future__ import annotations

import os
import signal
import sys

from app.context import AppContext


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in {"offscreen", "minimal"})


def run_gui(ctx: AppContext) -> int:
    if not _has_display():
        print("afterimage: no display to show the app on (DISPLAY is not set).\n"
              "  Use the command line instead: `afterimage --help`,\n"
              "  or start a virtual display: `Xvfb :99 & DISPLAY=:99 afterimage`.",
              file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.memory import Memory
    from ui.app_controller import AppController
    from ui.background import Background
    from ui.gui_settings import GuiSettings
    from ui.main_window import MainWindow
    from ui.session import Session
    from ui.single_instance import SingleInstance
    from ui.theme import Theme, app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Afterimage")
    app.setDesktopFileName("afterimage")
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    instance = SingleInstance(ctx.paths.data_dir)
    if not instance.acquire():
        print("afterimage: already running; showing its window.", file=sys.stderr)
        return 0
    prefs = GuiSettings(ctx.paths.config_file.parent / "gui.ini",
                        ctx.config.security.idle_lock_minutes)
    theme = Theme(prefs.theme)
    memory = Memory.open(ctx.config, ctx.paths) if Memory.exists(ctx.paths) else None
    session = Session(ctx.config, ctx.paths, Background(), memory=memory,
                      display_available=_has_display()
                      and os.environ.get("QT_QPA_PLATFORM") != "offscreen")
    window = MainWindow(session, theme, prefs)
    controller = AppController(session, window, theme, prefs, instance)
    # Clean shutdown on SIGINT/SIGTERM: Python handlers only run when the interpreter
    # gets control, so a timer wakes it up regularly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: controller.quit())
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    controller.start()
    from ui import gc_policy

    gc_policy.install()
    return int(app.exec())
