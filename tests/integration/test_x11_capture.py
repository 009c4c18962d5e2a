"""Screen grabs and active-window info against a real X server (Xvfb + openbox)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from core.capture import IdenticalFrameFilter, MssScreenSource, X11WindowInfo
from core.types import ActiveWindow
from tests.integration.xenv import SCREEN_HEIGHT, SCREEN_WIDTH, open_text_window

pytestmark = pytest.mark.integration


def _dark_fraction(image: Image.Image) -> float:
    grey = image.convert("L")
    histogram = grey.histogram()
    return sum(histogram[:100]) / (grey.width * grey.height)


def _white_fraction(image: Image.Image) -> float:
    grey = image.convert("L")
    return sum(grey.histogram()[245:]) / (grey.width * grey.height)


def test_grab_all_returns_one_rgb_frame_per_monitor(xdisplay: str) -> None:
    with MssScreenSource() as screen:
        before = datetime.now(UTC)
        frames = screen.grab_all()
        again = screen.grab_all()  # the connection is reused
    assert len(frames) == len(again) == 1
    frame = frames[0]
    assert frame.monitor.index == 1
    assert (frame.monitor.width, frame.monitor.height) == (SCREEN_WIDTH, SCREEN_HEIGHT)
    assert frame.image.size == (SCREEN_WIDTH, SCREEN_HEIGHT)
    assert frame.image.mode == "RGB"
    assert frame.captured_at.tzinfo is UTC
    assert before <= frame.captured_at <= before + timedelta(seconds=10)


def test_a_grab_holds_exactly_the_screens_pixels(xdisplay: str) -> None:
    # grab_all decodes into an image it does not clear first: every pixel must be the
    # screen's, in RGB order (the reference: mss's own BGRX bytes, decoded the usual way)
    import mss

    with open_text_window("Pixels check", "Pixels"), MssScreenSource() as screen, \
            mss.mss(display=xdisplay) as direct:
        frame = screen.grab_all()[0]
        shot = direct.grab(direct.monitors[1])
    reference = Image.frombytes("RGB", shot.size, shot.raw, "raw", "BGRX")
    assert frame.image.size == reference.size
    assert frame.image.tobytes() == reference.tobytes()
    assert _white_fraction(frame.image) > 0.01  # the window is there, not a blank grab


def test_active_window_reports_title_pid_and_app(xdisplay: str) -> None:
    title = "Unique Title 123 — ünïcode"
    with open_text_window("some unique phrase", title) as proc, X11WindowInfo() as windows:
        active = windows.active_window()
    assert active is not None
    assert active.title == title
    assert active.pid == proc.pid
    assert active.app.startswith("python")  # /proc/<pid>/comm of the Qt process
    assert active.wm_class  # Qt sets WM_CLASS
    assert active.width is not None and active.width > SCREEN_WIDTH // 2
    assert active.height is not None and active.height > SCREEN_HEIGHT // 2


def test_grabbed_frame_shows_the_windows_text(xdisplay: str) -> None:
    text = "The quick brown fox remembers the lazy dog " * 8
    with (
        open_text_window(text, "Text Window 456"),
        X11WindowInfo() as windows,
        MssScreenSource() as screen,
    ):
        active = windows.active_window()
        frame = screen.grab_all()[0]
    assert active is not None and active.left is not None and active.top is not None
    assert active.width is not None and active.height is not None
    window_area = frame.image.crop(
        (active.left, active.top, active.left + active.width, active.top + active.height)
    )
    assert _white_fraction(window_area) > 0.6  # the white window background
    assert 0.002 < _dark_fraction(window_area) < 0.3  # black text, not a black screen


def test_a_static_screen_is_flagged_as_duplicate(xdisplay: str) -> None:
    frames = IdenticalFrameFilter()
    with open_text_window("nothing moves here", "Static 789"), MssScreenSource() as screen:
        time.sleep(0.3)  # let the first paint settle
        assert not frames.is_duplicate(screen.grab_all()[0])
        assert frames.is_duplicate(screen.grab_all()[0])


def _set_active_window_property(display_name: str, window_id: int) -> None:
    from Xlib import X, Xatom
    from Xlib.display import Display

    conn = Display(display_name)
    try:
        atom = conn.intern_atom("_NET_ACTIVE_WINDOW")
        conn.screen().root.change_property(atom, Xatom.WINDOW, 32, [window_id], X.PropModeReplace)
        conn.sync()
    finally:
        conn.close()


def test_active_window_that_no_longer_exists_yields_none(xdisplay: str) -> None:
    from Xlib import X
    from Xlib.display import Display

    conn = Display(xdisplay)
    try:
        window = conn.screen().root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
        window_id = int(window.id)
        window.destroy()
        conn.sync()
    finally:
        conn.close()
    # Point _NET_ACTIVE_WINDOW at the destroyed window, as a WM would in a race.
    _set_active_window_property(xdisplay, window_id)
    with X11WindowInfo() as windows:
        assert windows.active_window() is None


def _churn_windows(display_name: str, stop: threading.Event, activated: list[int]) -> None:
    """Create windows, wait until the WM makes each one active, then destroy it at once."""
    from Xlib import X
    from Xlib.display import Display
    from Xlib.protocol import event

    conn = Display(display_name)
    root = conn.screen().root
    active_atom = conn.intern_atom("_NET_ACTIVE_WINDOW")
    try:
        while not stop.is_set():
            window = root.create_window(0, 0, 300, 200, 0, X.CopyFromParent)
            window.set_wm_name("churn window")
            window.set_wm_class("churn", "Churn")
            window.map()
            request = event.ClientMessage(
                window=window, client_type=active_atom, data=(32, [1, X.CurrentTime, 0, 0, 0])
            )
            mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline and not stop.is_set():
                root.send_event(request, event_mask=mask)
                prop = root.get_full_property(active_atom, X.AnyPropertyType)
                if prop is not None and list(prop.value)[:1] == [window.id]:
                    activated.append(int(window.id))
                    break
                time.sleep(0.002)
            window.destroy()
            conn.flush()
    finally:
        conn.close()


def test_querying_while_windows_come_and_go_never_raises(xdisplay: str) -> None:
    stop = threading.Event()
    activated: list[int] = []
    worker = threading.Thread(target=_churn_windows, args=(xdisplay, stop, activated))
    seen: list[ActiveWindow | None] = []
    with X11WindowInfo() as windows:
        worker.start()
        try:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                seen.append(windows.active_window())
        finally:
            stop.set()
            worker.join(timeout=10)
    assert len(activated) > 10  # the WM really activated the short-lived windows
    assert any(item is not None and item.title == "churn window" for item in seen)
    assert all(item is None or isinstance(item, ActiveWindow) for item in seen)


def test_the_damage_report_sees_a_window_drawn_and_a_quiet_screen(xdisplay: str) -> None:
    from core.capture.session import X11DamageWatch

    watch = X11DamageWatch(xdisplay)
    try:
        assert watch.changed()  # the first look cannot know: it counts as changed
        with open_text_window("drawn by another client", "Damage 1"), \
                MssScreenSource() as screen:
            assert watch.changed()  # the window was mapped and painted
            deadline = time.monotonic() + 10
            while watch.changed():  # until the window manager and Qt are done drawing
                assert time.monotonic() < deadline, "the screen never went quiet"
                time.sleep(0.3)
            before = screen.grab_all()[0].image.tobytes()
            time.sleep(0.5)
            assert not watch.changed()
            assert screen.grab_all()[0].image.tobytes() == before  # quiet is unchanged
            with open_text_window("a second window on top", "Damage 2",
                                  geometry=(100, 100, 500, 300)):
                assert watch.changed()
    finally:
        watch.close()
