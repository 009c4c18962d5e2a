"""A real X11 session for integration tests: Xvfb + openbox, and a Qt window showing text.

Used by ``conftest.py``; nothing here is a pytest fixture so it can be driven by hand too::

    with XSession.start() as session:
        print(session.display)
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.capture import X11WindowInfo

SCREEN_WIDTH = 1920
SCREEN_HEIGHT = 1080
APT_HINT = "sudo apt-get install -y $(grep -v '^#' scripts/apt-packages.txt)"
SHOW_TEXT_WINDOW = Path(__file__).with_name("show_text_window.py")


class XEnvError(RuntimeError):
    """The X test session could not be set up."""


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise XEnvError(f"timed out after {timeout:.0f}s waiting for {what}")


def display_works(display: str) -> bool:
    from Xlib import error
    from Xlib.display import Display

    try:
        Display(display).close()
    except (error.DisplayError, error.XauthError, error.XNoAuthError, OSError):
        return False
    return True


def disable_screen_saver(display: str) -> None:
    """Turn the server's screen saver off, so a long test run never blanks the screen
    (a display reused from the caller may still have the 10-minute X default)."""
    from Xlib import X
    from Xlib.display import Display

    conn = Display(display)
    try:
        conn.set_screen_saver(0, 0, X.DefaultBlanking, X.DefaultExposures)
        conn.force_screen_saver(X.ScreenSaverReset)
        conn.sync()
    finally:
        conn.close()


def has_ewmh_wm(display: str) -> bool:
    """True when a window manager has announced itself (_NET_SUPPORTING_WM_CHECK)."""
    from Xlib.display import Display

    conn = Display(display)
    try:
        root = conn.screen().root
        prop = root.get_full_property(conn.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0)
        return prop is not None and len(prop.value) > 0
    finally:
        conn.close()


def _terminate(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def start_xvfb(
    *extra_args: str, screen: str = f"{SCREEN_WIDTH}x{SCREEN_HEIGHT}x24"
) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a free display number (chosen by Xvfb via -displayfd)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise XEnvError(f"Xvfb is not installed. Install the test packages: {APT_HINT}")
    read_fd, write_fd = os.pipe()
    # -s 0: no screen saver (the X default blanks after 10 idle minutes, which the capture
    # service treats as a locked screen); -noreset: no server reset between clients
    cmd = [xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp",
           "-s", "0", "-noreset"]
    proc = subprocess.Popen(
        [*cmd, *extra_args],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 15
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = pipe.read(16)
            if not chunk:
                break
            number += chunk
    if not number.strip().isdigit():
        _terminate(proc)
        raise XEnvError(f"Xvfb did not start (exit code {proc.poll()})")
    display = f":{number.decode().strip()}"
    try:
        wait_for(lambda: display_works(display), 10, f"Xvfb on {display}")
    except BaseException:
        _terminate(proc)
        raise
    return proc, display


def start_openbox(display: str) -> subprocess.Popen[bytes]:
    openbox = shutil.which("openbox")
    if openbox is None:
        raise XEnvError(f"openbox is not installed. Install the test packages: {APT_HINT}")
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.Popen(
        [openbox, "--sm-disable"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: has_ewmh_wm(display), 10, f"openbox on {display}")
    except BaseException:
        _terminate(proc)
        raise
    return proc


@dataclass
class XSession:
    """An X display usable by tests, and the processes we started for it (if any)."""

    display: str
    reused: bool
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls) -> XSession:
        """Reuse a working $DISPLAY (adding openbox if it lacks a WM), else start Xvfb."""
        current = os.environ.get("DISPLAY", "")
        processes: list[subprocess.Popen[bytes]] = []
        if current and display_works(current):
            session = cls(display=current, reused=True, processes=processes)
        else:
            xvfb, display = start_xvfb()
            processes.append(xvfb)
            session = cls(display=display, reused=False, processes=processes)
        try:
            disable_screen_saver(session.display)
            if not has_ewmh_wm(session.display):
                processes.append(start_openbox(session.display))
        except BaseException:
            session.stop()
            raise
        return session

    def stop(self) -> None:
        for proc in reversed(self.processes):
            _terminate(proc)
        self.processes.clear()

    def __enter__(self) -> XSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def qt_xcb_missing_libs() -> list[str]:
    """Shared libraries that PySide6's xcb platform plugin needs but cannot find."""
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    ldd = shutil.which("ldd")
    if ldd is None or not plugin.exists():
        return []
    out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False).stdout
    return [line.split()[0] for line in out.splitlines() if "not found" in line]


@contextlib.contextmanager
def open_text_window(
    text: str, title: str, *, display: str | None = None, timeout: float = 20.0,
    geometry: tuple[int, int, int, int] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Show ``text`` in a large white Qt window titled ``title`` until the block exits
    (maximised, or at ``geometry`` = left, top, width, height).

    Waits until the window is mapped and is the active window, then yields the process.
    """
    display = display or os.environ["DISPLAY"]
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(SHOW_TEXT_WINDOW), "--title", title, "--text", text,
             *(["--geometry", ",".join(map(str, geometry))] if geometry else [])],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            _wait_until_active(proc, title, display, timeout, stderr)
            yield proc
        finally:
            _terminate(proc)


def _wait_until_active(
    proc: subprocess.Popen[bytes],
    title: str,
    display: str,
    timeout: float,
    stderr: IO[bytes],
) -> None:
    """Wait for the child's ``painted`` line and for its window to be the active one."""
    assert proc.stdout is not None
    info = X11WindowInfo(display)
    painted = active = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise XEnvError(_window_failure(proc, stderr))
            if not painted and select.select([proc.stdout], [], [], 0.05)[0]:
                painted = proc.stdout.readline().strip() == b"painted"
            window = info.active_window()
            active = window is not None and window.title == title
            if painted and active:
                return
            time.sleep(0.02)
    finally:
        info.close()
    raise XEnvError(
        f"window {title!r} not ready within {timeout:.0f}s (painted={painted}, active={active})"
    )


def _window_failure(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> str:
    stderr.seek(0)
    output = stderr.read().decode("utf-8", errors="replace")
    message = f"show_text_window.py exited with code {proc.returncode}:\n{output}"
    missing = qt_xcb_missing_libs()
    if missing or "xcb" in output:
        message += (
            f"\nQt's xcb platform plugin could not load (missing: {', '.join(missing) or '?'})."
            f"\nInstall the Debian packages: {APT_HINT}"
        )
    return message
