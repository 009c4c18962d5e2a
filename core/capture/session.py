"""Desktop session signals for the schedule: user idle time and screen lock.

``DesktopSignals`` is the Protocol the service uses; ``X11SessionSignals`` implements it on
X11 with the MIT-SCREEN-SAVER extension (``XScreenSaverQueryInfo``: milliseconds since the
last input, and whether the screen saver is on), plus known screen lockers seen as the
focused window. When the extension is missing the user counts as active and the screen as
unlocked (documented in docs/user-guide.md): capture goes on rather than stopping silently.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from core.types import ActiveWindow

if TYPE_CHECKING:
    from Xlib.display import Display

# WM_CLASS / process names of X11 screen lockers whose window takes the focus when they lock.
LOCKER_NAMES = frozenset({
    "i3lock", "xsecurelock", "slock", "xlock", "light-locker", "xscreensaver",
    "gnome-screensaver", "cinnamon-screensaver", "mate-screensaver", "xfce4-screensaver",
    "kscreenlocker_greet", "betterlockscreen", "swaylock", "xtrlock", "physlock",
})


class DesktopSignals(Protocol):
    def idle_seconds(self) -> float | None:
        """Seconds since the last keyboard/mouse input, or None when unknown."""
        ...

    def screen_locked(self, window: ActiveWindow | None) -> bool: ...

    def screen_changed(self) -> bool:
        """False only when the display says that nothing was drawn on any screen since the
        last call; True when something was, or when it cannot tell."""
        ...

    def close(self) -> None: ...


class NullSignals:
    """Unknown idle time, never locked: the fallback where nothing can be asked."""

    def idle_seconds(self) -> float | None:
        return None

    def screen_locked(self, window: ActiveWindow | None) -> bool:
        return False

    def screen_changed(self) -> bool:
        return True

    def close(self) -> None:
        return None


def is_locker_window(window: ActiveWindow | None) -> bool:
    if window is None:
        return False
    names = {window.app.lower(), window.wm_class.lower()}
    return bool(names & LOCKER_NAMES)


class X11DamageWatch:
    """Whether anything was drawn on the screen since the last look, from the X server's
    DAMAGE extension (a damage object on the root window at the "non-empty" report level:
    one event when the first pixel changes, re-armed after each look). An unchanged screen
    then costs the service no grab, no colour conversion and no comparison. Without the
    extension, or after any error, every look answers "changed" (the service grabs and
    compares, as before)."""

    def __init__(self, display: str | None = None) -> None:
        self._display_name = display
        self._display: Display | None = None
        self._damage: int | None = None
        self._event_type: int | None = None
        self._failed = False

    def _connection(self) -> Display | None:
        if self._failed:
            return None
        if self._display is None:
            from Xlib import error
            from Xlib.display import Display
            from Xlib.ext import damage

            try:
                display = Display(self._display_name)
                if not display.has_extension(damage.extname):
                    display.close()
                    self._failed = True
                    return None
                display.damage_query_version()
                self._damage = display.screen().root.damage_create(
                    damage.DamageReportNonEmpty)
                display.sync()
            except (error.DisplayError, error.XauthError, error.XNoAuthError, error.XError,
                    OSError, TypeError):
                self._failed = True
                return None
            self._event_type = display.extension_event.DamageNotify
            self._display = display
            return None  # no event seen yet: the first look counts as changed
        return self._display

    def changed(self) -> bool:
        display = self._connection()
        if display is None:
            return True
        from Xlib import error

        try:
            seen = False
            while display.pending_events():
                seen = display.next_event().type == self._event_type or seen
            if seen:
                display.damage_subtract(self._damage)  # re-arm: the next drawing notifies
                display.flush()
            return seen
        except (error.XError, error.ConnectionClosedError, OSError):
            self.close()
            self._failed = True
            return True

    def close(self) -> None:
        _close_display(self._display)
        self._display = None


def _close_display(display: Display | None) -> None:
    """Close an X connection; a server that already went away leaves nothing to release."""
    if display is not None:
        try:
            display.close()
        except OSError:
            pass


class X11SessionSignals:
    """Idle time and screen-saver state from the X server (one cheap round trip for both per
    poll), and whether anything was drawn since the last look (:class:`X11DamageWatch`)."""

    # idle time and the screen saver's state asked once per scheduler step (both are read
    # in the same step)
    QUERY_REUSE_S = 0.1

    def __init__(self, display: str | None = None) -> None:
        self._display_name = display
        self._display: Display | None = None
        self._available: bool | None = None
        self._damage = X11DamageWatch(display)
        self._last: tuple[float, tuple[float, bool] | None] | None = None

    def _connection(self) -> Display | None:
        if self._available is False:
            return None
        if self._display is None:
            from Xlib import error
            from Xlib.display import Display

            try:
                self._display = Display(self._display_name)
            except (error.DisplayError, error.XauthError, error.XNoAuthError, OSError,
                    TypeError):
                self._available = False
                return None
            self._available = self._display.has_extension("MIT-SCREEN-SAVER")
            if not self._available:
                self.close()
                self._available = False
                return None
        return self._display

    @property
    def available(self) -> bool:
        return self._connection() is not None

    def _query(self) -> tuple[float, bool] | None:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self.QUERY_REUSE_S:
            return self._last[1]
        result = self._ask()
        self._last = (now, result)
        return result

    def _ask(self) -> tuple[float, bool] | None:
        from Xlib import error

        display = self._connection()
        if display is None:
            return None
        try:
            info = display.screen().root.screensaver_query_info()
        except (error.XError, error.ConnectionClosedError, OSError):
            self.close()
            return None
        # state: 0 Off, 1 On, 3 Disabled
        return float(info.idle) / 1000.0, int(info.state) == 1

    def idle_seconds(self) -> float | None:
        result = self._query()
        return None if result is None else result[0]

    def screen_locked(self, window: ActiveWindow | None) -> bool:
        if is_locker_window(window):
            return True
        result = self._query()
        return bool(result and result[1])

    def screen_changed(self) -> bool:
        return self._damage.changed()

    def close(self) -> None:
        self._damage.close()
        _close_display(self._display)
        self._display = None
