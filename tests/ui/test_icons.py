"""The window, the app and the tray show Afterimage's icon (assets/icons/afterimage.svg),
rendered sharp at the screen's pixel ratio; the tray adds a badge per state."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from core.resources import assets_dir


def _svg(size: int) -> QImage:
    renderer = QSvgRenderer(QByteArray((assets_dir() / "icons" / "afterimage.svg").read_bytes()))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def _same(a: QImage, b: QImage, x: int, y: int) -> bool:
    pa, pb = a.pixelColor(x, y), b.pixelColor(x, y)
    return all(abs(u - v) <= 2 for u, v in zip(pa.getRgb(), pb.getRgb(), strict=True))


def test_window_and_tray_icons_are_the_afterimage_icon(qtbot, app_parts):
    from ui.app_controller import AppController

    expected = _svg(64)
    window_icon = app_parts.window.windowIcon().pixmap(64, 64).toImage()
    assert window_icon.width() == 64
    for x, y in ((32, 32), (20, 28), (44, 40), (10, 10)):
        assert _same(window_icon, expected, x, y), (x, y)
    controller = AppController(app_parts.session, app_parts.window, app_parts.theme,
                               app_parts.prefs)
    try:
        tray = controller.tray
        icons = {state: tray._icons[state].pixmap(64, 64).toImage()
                 for state in ("capturing", "paused", "locked", "error", "stopped")}
        for image in icons.values():  # the logo, top left, is the app icon's
            assert _same(image, expected, 20, 28) and _same(image, expected, 10, 10)
        # the badge (bottom right) tells the states apart
        badges = {state: image.pixelColor(50, 50).name() for state, image in icons.items()}
        assert len(set(badges.values())) == len(badges)
        assert _same(icons["stopped"], expected, 50, 50)  # no badge when not running
        assert tray.tray.icon().cacheKey() == tray._icons[tray.state].cacheKey()
    finally:
        controller.dispose()


def test_icons_are_rendered_at_the_screen_pixel_ratio():
    code = ("from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from ui.theme import app_icon, tray_icon\n"
            "for icon in (app_icon(), tray_icon('paused')):\n"
            "    p = icon.pixmap(32, 32)\n"
            "    print(p.width(), p.devicePixelRatio())\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == ["64", "2.0", "64", "2.0"]  # 2x pixels for a 32-pixel icon, not upscaled
