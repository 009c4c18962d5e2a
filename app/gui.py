"""Launch the desktop app."""

from __future__ import annotations

import os
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
    from PySide6.QtWidgets import QApplication

    from core.memory import Memory
    from ui.main_window import MainWindow, VaultSummary

    exists = Memory.exists(ctx.paths)
    count = 0
    if exists:
        memory = Memory.open(ctx.config, ctx.paths)
        try:
            count = memory.stats().memories
        finally:
            memory.close()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Afterimage")
    window = MainWindow(VaultSummary(vault_exists=exists, memories=count,
                                     data_dir=str(ctx.paths.data_dir)))
    window.show()
    return int(app.exec())
