"""Render assets/icons/afterimage.svg into the PNG sizes, .ico and .icns the installers use.

    python packaging/render_icons.py        # rewrites assets/icons/*.png, .ico, .icns

The outputs are committed (they are small) so building an installer needs neither Qt's SVG
renderer nor this script; re-run it after editing the SVG.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "assets" / "icons"
SVG = ICONS / "afterimage.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)


def png_path(size: int) -> Path:
    return ICONS / f"afterimage-{size}.png"


def outputs() -> list[Path]:
    return [png_path(s) for s in PNG_SIZES] + [ICONS / "afterimage.ico",
                                               ICONS / "afterimage.icns"]


def render() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {SVG}")
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(png_path(size)))
    big = Image.open(png_path(512)).convert("RGBA")
    big.save(ICONS / "afterimage.ico", sizes=[(s, s) for s in ICO_SIZES])
    big.save(ICONS / "afterimage.icns", sizes=[(s, s) for s in ICNS_SIZES])
    del _app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    render()
    for path in outputs():
        print(f"{path.relative_to(ICONS.parent.parent)}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
