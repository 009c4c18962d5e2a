"""Windows adapter (ctypes; no pywin32): foreground window, title, process, idle time, and
``SetWindowDisplayAffinity(WDA_EXCLUDEFROMCAPTURE)`` so our own windows never appear in any
capture (Windows 10 2004+). Screen grabs use mss (GDI BitBlt per monitor), as on X11.

Documented APIs used: user32 ``GetForegroundWindow``, ``GetWindowTextLengthW``,
``GetWindowTextW``, ``GetWindowThreadProcessId``, ``GetWindowRect``, ``GetLastInputInfo``,
``SetWindowDisplayAffinity``, ``OpenInputDesktop`` (fails while the secure desktop / lock
screen is up); kernel32 ``OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION)``,
``QueryFullProcessImageNameW``, ``GetTickCount``, ``CloseHandle``.
"""

from __future__ import annotations

import ntpath
import sys
from typing import Any

from core.capture.session import DesktopSignals
from core.types import ActiveWindow, ScreenSource, WindowInfoSource

WDA_NONE = 0x00
WDA_MONITOR = 0x01
WDA_EXCLUDEFROMCAPTURE = 0x11
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
DESKTOP_SWITCHDESKTOP = 0x0100
MAX_TITLE = 2048


def process_name_from_image_path(path: str) -> str:
    """``C:\\Program Files\\KeePassXC\\KeePassXC.exe`` -> ``KeePassXC``."""
    base = ntpath.basename(path.strip().strip('"'))
    return base[:-4] if base.lower().endswith(".exe") else base


def idle_seconds_from_ticks(now_ticks: int, last_input_ticks: int) -> float:
    """Idle time from ``GetTickCount`` and ``LASTINPUTINFO.dwTime`` (both 32-bit ms
    counters that wrap after 49.7 days)."""
    return ((now_ticks - last_input_ticks) & 0xFFFFFFFF) / 1000.0


def window_from_parts(title: str, image_path: str | None, pid: int | None,
                      rect: tuple[int, int, int, int] | None) -> ActiveWindow:
    """Build an ActiveWindow from the raw Win32 answers (rect is left, top, right, bottom)."""
    name = process_name_from_image_path(image_path) if image_path else ""
    if rect is not None and rect[2] > rect[0] and rect[3] > rect[1]:
        left, top, right, bottom = rect
        return ActiveWindow(app=name, title=title, pid=pid, wm_class=name, left=left, top=top,
                            width=right - left, height=bottom - top)
    return ActiveWindow(app=name, title=title, pid=pid, wm_class=name)


class WindowsWindowInfo:  # pragma: no cover - runs on Windows only
    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ct = ctypes
        self._wt = wintypes
        self._user32: Any = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
        self._kernel32: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]

    def _image_path(self, pid: int) -> str | None:
        handle = self._kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            size = self._wt.DWORD(32768)
            buf = self._ct.create_unicode_buffer(size.value)
            if not self._kernel32.QueryFullProcessImageNameW(handle, 0, buf,
                                                             self._ct.byref(size)):
                return None
            return str(buf.value)
        finally:
            self._kernel32.CloseHandle(handle)

    def active_window(self) -> ActiveWindow | None:
        hwnd = self._user32.GetForegroundWindow()
        if not hwnd:
            return None
        length = min(MAX_TITLE, int(self._user32.GetWindowTextLengthW(hwnd)))
        buf = self._ct.create_unicode_buffer(length + 1)
        self._user32.GetWindowTextW(hwnd, buf, length + 1)
        pid = self._wt.DWORD()
        self._user32.GetWindowThreadProcessId(hwnd, self._ct.byref(pid))
        rect = self._wt.RECT()
        ok = self._user32.GetWindowRect(hwnd, self._ct.byref(rect))
        return window_from_parts(
            buf.value, self._image_path(pid.value) if pid.value else None,
            pid.value or None, (rect.left, rect.top, rect.right, rect.bottom) if ok else None)


class WindowsSignals:  # pragma: no cover - runs on Windows only
    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        class LASTINPUTINFO(ctypes.Structure):
            _fields_ = [("cbSize", wintypes.UINT), ("dwTime", wintypes.DWORD)]

        self._ct = ctypes
        self._info_type = LASTINPUTINFO
        self._user32: Any = ctypes.WinDLL("user32")  # type: ignore[attr-defined]
        self._kernel32: Any = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined]

    def idle_seconds(self) -> float | None:
        info = self._info_type()
        info.cbSize = self._ct.sizeof(info)
        if not self._user32.GetLastInputInfo(self._ct.byref(info)):
            return None
        return idle_seconds_from_ticks(int(self._kernel32.GetTickCount()), int(info.dwTime))

    def screen_locked(self, window: ActiveWindow | None) -> bool:
        desk = self._user32.OpenInputDesktop(0, False, DESKTOP_SWITCHDESKTOP)
        if not desk:
            return True  # the secure desktop (lock screen, UAC) has the input
        self._user32.CloseDesktop(desk)
        return False

    def screen_changed(self) -> bool:
        return True  # no cheap change signal used here: every scheduled grab is compared

    def close(self) -> None:
        return None


class WindowsPlatform:  # pragma: no cover - runs on Windows only
    name = "windows"

    def screen(self) -> ScreenSource:
        from core.capture.screen import MssScreenSource

        return MssScreenSource()

    def windows(self) -> WindowInfoSource:
        return WindowsWindowInfo()

    def signals(self) -> DesktopSignals:
        return WindowsSignals()

    def exclude_from_capture(self, native_window_id: int) -> bool:
        if sys.platform != "win32":
            return False
        import ctypes

        user32: Any = ctypes.WinDLL("user32")
        return bool(user32.SetWindowDisplayAffinity(native_window_id, WDA_EXCLUDEFROMCAPTURE))
