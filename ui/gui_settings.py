"""The app's own preferences (theme, auto-lock, window geometry): settings only, no content.

Kept in ``gui.ini`` next to ``config.toml``. Nothing here says what the user saw (R1):
exclusion lists and other content-bearing settings live in the vault.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ui.theme import ThemeChoice

DEFAULT_AUTOLOCK_MIN = 10


class GuiSettings:
    def __init__(self, path: Path, default_autolock_min: int = DEFAULT_AUTOLOCK_MIN) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._qs = QSettings(str(path), QSettings.Format.IniFormat)
        self._default_autolock = default_autolock_min

    @property
    def theme(self) -> ThemeChoice:
        value = str(self._qs.value("theme", ThemeChoice.SYSTEM.value))
        try:
            return ThemeChoice(value)
        except ValueError:
            return ThemeChoice.SYSTEM

    @theme.setter
    def theme(self, choice: ThemeChoice) -> None:
        self._qs.setValue("theme", choice.value)

    @property
    def autolock_minutes(self) -> int:
        """Lock after this many minutes without input to the app (0: never)."""
        try:
            value = int(str(self._qs.value("autolock_minutes", self._default_autolock)))
        except (TypeError, ValueError):
            return self._default_autolock
        return max(0, min(value, 24 * 60))

    @autolock_minutes.setter
    def autolock_minutes(self, minutes: int) -> None:
        self._qs.setValue("autolock_minutes", int(minutes))

    @property
    def capture_enabled(self) -> bool:
        """Run the capture service while the app runs (the user turned it on)."""
        return str(self._qs.value("capture_enabled", "false")).lower() == "true"

    @capture_enabled.setter
    def capture_enabled(self, on: bool) -> None:
        self._qs.setValue("capture_enabled", "true" if on else "false")

    @property
    def geometry(self) -> QByteArray | None:
        value = self._qs.value("window_geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window_geometry", value)

    def sync(self) -> None:
        self._qs.sync()
