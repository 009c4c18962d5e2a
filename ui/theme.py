"""Light/dark theme that follows the OS, and the app's SVG icons rendered for HiDPI.

``QStyleHints.colorScheme`` (Qt 6.5+) tells the OS scheme; the user may force light or dark
(``QStyleHints.setColorScheme``, Qt 6.8+). The Fusion style picks its palette from it, and
our monochrome icons are re-rendered in the matching colour when the scheme changes.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from core.resources import assets_dir

ICON_SIZES = (16, 24, 32, 64, 256)
_ICON_CACHE: dict[tuple[str, str], QIcon] = {}


class ThemeChoice(Enum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


def icons_dir() -> Path:
    return assets_dir() / "icons"


def is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _render(svg: bytes, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg))
    px = max(1, round(size * ratio))
    image = QImage(px, px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def svg_icon(name: str, color: QColor | str | None = None) -> QIcon:
    """An icon from ``assets/icons/<name>.svg`` at every common size (crisp on HiDPI)."""
    hex_color = QColor(color).name() if color is not None else "#808080"
    cached = _ICON_CACHE.get((name, hex_color))
    if cached is not None:
        return cached
    path = icons_dir() / f"{name}.svg"
    data = path.read_bytes().replace(b"#COLOR#", hex_color.encode())
    icon = QIcon()
    app = QGuiApplication.instance()
    ratio = QGuiApplication.primaryScreen().devicePixelRatio() if app and \
        QGuiApplication.primaryScreen() else 1.0
    for size in ICON_SIZES:
        icon.addPixmap(_render(data, size, 1.0))
        if ratio > 1.0:
            icon.addPixmap(_render(data, size, ratio))
    _ICON_CACHE[(name, hex_color)] = icon
    return icon


class Theme(QObject):
    """Applies the chosen scheme and tells widgets when it changes."""

    changed = Signal()

    def __init__(self, choice: ThemeChoice = ThemeChoice.SYSTEM,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._choice = choice
        self._system_palette = QPalette(QGuiApplication.palette())
        self._dark = False
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(lambda _scheme: self._refresh())
        self.apply(choice)

    @property
    def choice(self) -> ThemeChoice:
        return self._choice

    def apply(self, choice: ThemeChoice) -> None:
        self._choice = choice
        hints = QGuiApplication.styleHints()
        scheme = {ThemeChoice.SYSTEM: Qt.ColorScheme.Unknown,
                  ThemeChoice.LIGHT: Qt.ColorScheme.Light,
                  ThemeChoice.DARK: Qt.ColorScheme.Dark}[choice]
        if hasattr(hints, "setColorScheme"):
            hints.setColorScheme(scheme)
        self._refresh()

    def _refresh(self) -> None:
        # Platforms that cannot switch the scheme (offscreen, older desktops) still get the
        # right colours: we set the palette ourselves.
        os_scheme = QGuiApplication.styleHints().colorScheme()
        if self._choice is ThemeChoice.DARK:
            dark = True
        elif self._choice is ThemeChoice.LIGHT:
            dark = False
        else:
            dark = os_scheme == Qt.ColorScheme.Dark or (
                os_scheme == Qt.ColorScheme.Unknown
                and self._system_palette.color(QPalette.ColorRole.Window).lightness() < 128)
        self._dark = dark
        QGuiApplication.setPalette(dark_palette() if dark else light_palette())
        self.changed.emit()

    @property
    def dark(self) -> bool:
        return self._dark

    def icon(self, name: str) -> QIcon:
        """A monochrome icon in the text colour of the current scheme."""
        return svg_icon(name, QGuiApplication.palette().color(QPalette.ColorRole.WindowText))

    def accent(self) -> QColor:
        return QColor("#818cf8") if self.dark else QColor("#4f46e5")

    def muted(self) -> QColor:
        return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def _palette(colors: dict[QPalette.ColorRole, str],
             disabled: dict[QPalette.ColorRole, str]) -> QPalette:
    pal = QPalette()
    for role, value in colors.items():
        pal.setColor(role, QColor(value))
    for role, value in disabled.items():
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(value))
    return pal


R = QPalette.ColorRole


def dark_palette() -> QPalette:
    return _palette({
        R.Window: "#1e1f24", R.WindowText: "#e6e6ea", R.Base: "#16171b",
        R.AlternateBase: "#23252b", R.ToolTipBase: "#2b2d34", R.ToolTipText: "#e6e6ea",
        R.Text: "#e6e6ea", R.Button: "#2a2c33", R.ButtonText: "#e6e6ea",
        R.BrightText: "#ffffff", R.Highlight: "#6366f1", R.HighlightedText: "#ffffff",
        R.Link: "#a5b4fc", R.LinkVisited: "#c4b5fd", R.PlaceholderText: "#8b8d98",
        R.Light: "#3a3d45", R.Midlight: "#30323a", R.Mid: "#2a2c33", R.Dark: "#101114",
        R.Shadow: "#000000",
    }, {R.WindowText: "#70727c", R.Text: "#70727c", R.ButtonText: "#70727c",
        R.Highlight: "#3a3d45"})


def light_palette() -> QPalette:
    return _palette({
        R.Window: "#f5f5f7", R.WindowText: "#1d1d22", R.Base: "#ffffff",
        R.AlternateBase: "#f0f0f4", R.ToolTipBase: "#ffffff", R.ToolTipText: "#1d1d22",
        R.Text: "#1d1d22", R.Button: "#ececf0", R.ButtonText: "#1d1d22",
        R.BrightText: "#ffffff", R.Highlight: "#4f46e5", R.HighlightedText: "#ffffff",
        R.Link: "#4338ca", R.LinkVisited: "#6d28d9", R.PlaceholderText: "#6b6b78",
        R.Light: "#ffffff", R.Midlight: "#e4e4ea", R.Mid: "#c8c8d0", R.Dark: "#a0a0aa",
        R.Shadow: "#5a5a64",
    }, {R.WindowText: "#9a9aa4", R.Text: "#9a9aa4", R.ButtonText: "#9a9aa4",
        R.Highlight: "#c8c8d0"})


APP_ICON = "afterimage"  # assets/icons/afterimage.svg, the product's icon (installers too)
APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)

# The tray shows the app icon with a badge for the state (bottom right).
TRAY_BADGES: dict[str, str | None] = {"capturing": "#ef4444", "paused": "#f59e0b",
                                      "locked": "#64748b", "error": "#dc2626",
                                      "stopped": None}


def _device_ratio() -> float:
    screen = QGuiApplication.primaryScreen() if QGuiApplication.instance() else None
    return screen.devicePixelRatio() if screen is not None else 1.0


def app_icon() -> QIcon:
    """The app's icon at every common size, 1x and at the screen's ratio (HiDPI)."""
    return state_icon(None, "app")


def state_icon(badge: str | None, key: str) -> QIcon:
    """The app icon with an optional round badge of colour ``badge`` (the tray's states)."""
    cache_key = (f"{APP_ICON}:{key}", badge or "")
    cached = _ICON_CACHE.get(cache_key)
    if cached is not None:
        return cached
    data = (icons_dir() / f"{APP_ICON}.svg").read_bytes()
    icon = QIcon()
    ratio = _device_ratio()
    for size in APP_ICON_SIZES:
        for r in ((1.0, ratio) if ratio > 1.0 else (1.0,)):
            pixmap = _render(data, size, r)
            if badge is not None:
                _draw_badge(pixmap, size, r, QColor(badge), key)
            icon.addPixmap(pixmap)
    _ICON_CACHE[cache_key] = icon
    return icon


def _draw_badge(pixmap: QPixmap, size: int, ratio: float, color: QColor, key: str) -> None:
    from PySide6.QtGui import QPen

    px = size * ratio
    d = px * 0.46
    rect = QRectF(px - d - px * 0.02, px - d - px * 0.02, d, d)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(1 / ratio, 1 / ratio)  # draw in device pixels
    painter.setPen(QPen(QColor("#ffffff"), max(1.0, px * 0.05)))
    painter.setBrush(color)
    painter.drawEllipse(rect)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffffff"))
    if key == "paused":  # two bars
        w, h = d * 0.14, d * 0.44
        cy = rect.center().y() - h / 2
        painter.drawRect(QRectF(rect.center().x() - w * 1.6, cy, w, h))
        painter.drawRect(QRectF(rect.center().x() + w * 0.6, cy, w, h))
    elif key == "error":  # an exclamation mark
        w = d * 0.14
        painter.drawRect(QRectF(rect.center().x() - w / 2, rect.top() + d * 0.2, w, d * 0.38))
        painter.drawRect(QRectF(rect.center().x() - w / 2, rect.top() + d * 0.66, w, w))
    elif key == "locked":  # a small padlock body
        w, h = d * 0.4, d * 0.3
        painter.drawRect(QRectF(rect.center().x() - w / 2, rect.center().y() - h * 0.1, w, h))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("#ffffff"), max(1.0, d * 0.08)))
        painter.drawArc(QRectF(rect.center().x() - w * 0.32, rect.center().y() - h * 0.95,
                               w * 0.64, h * 1.4), 0, 180 * 16)
    painter.end()


def tray_icon(state: str) -> QIcon:
    return state_icon(TRAY_BADGES.get(state), state)


def icon_pixmap(icon: QIcon, size: int) -> QPixmap:
    return icon.pixmap(QSize(size, size))
