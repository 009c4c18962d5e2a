"""Monitor assignment and HiDPI scaling, display-server detection, power, and the pure logic
of the Windows and macOS adapters (no platform library is imported)."""

from __future__ import annotations

from core.capture.monitors import home_monitor, scale_rect, shows_window
from core.capture.platforms import detect_display_server
from core.capture.platforms.macos import frontmost_window, parse_bounds, screen_locked_from_session
from core.capture.platforms.windows import (
    idle_seconds_from_ticks,
    process_name_from_image_path,
    window_from_parts,
)
from core.capture.power import on_battery
from core.types import ActiveWindow, MonitorGeometry

LEFT = MonitorGeometry(1, 0, 0, 1920, 1080)
RIGHT = MonitorGeometry(2, 1920, 0, 2560, 1440, scale=2.0)  # a HiDPI screen to the right


def win(left, top, width, height) -> ActiveWindow:
    return ActiveWindow(app="a", title="t", left=left, top=top, width=width, height=height)


def test_window_belongs_to_the_monitor_holding_its_centre():
    assert home_monitor(win(100, 100, 800, 600), [LEFT, RIGHT]) == 1
    assert home_monitor(win(1800, 100, 1000, 600), [LEFT, RIGHT]) == 2  # centre at 2300
    assert home_monitor(win(-500, 0, 400, 400), [LEFT, RIGHT]) is None  # off every screen
    assert home_monitor(ActiveWindow(app="a", title="t"), [LEFT, RIGHT]) is None
    # a window straddling both monitors shows on both (privacy rules skip both)
    straddling = win(1800, 100, 1000, 600)
    assert shows_window(straddling, LEFT) and shows_window(straddling, RIGHT)
    assert not shows_window(win(100, 100, 800, 600), RIGHT)
    assert shows_window(ActiveWindow(app="a", title="t"), RIGHT)  # unknown geometry: assume yes


def test_hidpi_points_to_pixels_round_outwards():
    assert scale_rect((10, 20, 100, 50), 2.0) == (20, 40, 200, 100)
    assert scale_rect((10.25, 0, 100.5, 50), 1.5) == (15, 0, 152, 75)
    assert parse_bounds({"X": 100, "Y": 50, "Width": 640, "Height": 480}, 2.0) == \
        (200, 100, 1280, 960)
    assert parse_bounds({"X": 0, "Y": 0, "Width": 0, "Height": 10}) is None
    assert parse_bounds({"X": "bad"}) is None


def test_display_server_detection_explains_wayland():
    assert detect_display_server({"DISPLAY": ":0"}, "linux").kind == "x11"
    wl = detect_display_server({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert wl.kind == "wayland" and not wl.can_capture and "X11" in wl.message
    xw = detect_display_server({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux")
    assert xw.kind == "xwayland" and xw.can_capture and "Wayland" in xw.message
    assert detect_display_server({}, "linux").kind == "none"
    assert detect_display_server({}, "win32").kind == "windows"
    assert detect_display_server({}, "darwin").kind == "macos"


def _supply(root, name, **files):
    d = root / name
    d.mkdir()
    for key, value in files.items():
        (d / key).write_text(value + "\n")


def test_on_battery_reads_sysfs(tmp_path):
    _supply(tmp_path, "AC", type="Mains", online="0")
    _supply(tmp_path, "BAT0", type="Battery", status="Discharging")
    _supply(tmp_path, "hidpp_battery_0", type="Battery", status="Charging", scope="Device")
    assert on_battery(tmp_path)
    (tmp_path / "AC" / "online").write_text("1\n")
    assert not on_battery(tmp_path)
    assert not on_battery(tmp_path / "missing")


def test_windows_adapter_pure_logic():
    assert process_name_from_image_path(r"C:\Program Files\KeePassXC\KeePassXC.exe") == \
        "KeePassXC"
    assert process_name_from_image_path('"C:\\x\\Code.EXE"') == "Code"
    assert idle_seconds_from_ticks(5000, 2000) == 3.0
    assert idle_seconds_from_ticks(1000, 0xFFFFFC18) == 2.0  # the 49.7-day wrap
    w = window_from_parts("Vault - KeePassXC", r"C:\KeePassXC\KeePassXC.exe", 42,
                          (-8, -8, 1928, 1048))
    assert (w.app, w.pid, w.left, w.top, w.width, w.height) == ("KeePassXC", 42, -8, -8, 1936,
                                                                1056)
    assert window_from_parts("x", None, None, (0, 0, 0, 0)).width is None
    from core.privacy import PrivacyFilter

    assert PrivacyFilter().window_reason(w) == "excluded_app"


def test_macos_adapter_picks_the_frontmost_apps_top_normal_window():
    windows = [
        {"kCGWindowOwnerPID": 7, "kCGWindowLayer": 25, "kCGWindowOwnerName": "Dock"},
        {"kCGWindowOwnerPID": 99, "kCGWindowLayer": 0, "kCGWindowOwnerName": "Safari",
         "kCGWindowName": "Other", "kCGWindowBounds": {"X": 0, "Y": 0, "Width": 5,
                                                       "Height": 5}},
        {"kCGWindowOwnerPID": 42, "kCGWindowLayer": 0, "kCGWindowAlpha": 0.0,
         "kCGWindowOwnerName": "1Password"},
        {"kCGWindowOwnerPID": 42, "kCGWindowLayer": 0, "kCGWindowOwnerName": "1Password",
         "kCGWindowName": "Vault", "kCGWindowBounds": {"X": 10, "Y": 20, "Width": 800,
                                                       "Height": 600}},
    ]
    w = frontmost_window(windows, 42, "com.1password.1password", "1Password", scale=2.0)
    assert w is not None and (w.title, w.left, w.top, w.width, w.height) == \
        ("Vault", 20, 40, 1600, 1200)
    assert w.wm_class == "com.1password.1password"
    from core.privacy import PrivacyFilter

    assert PrivacyFilter().window_reason(w) == "excluded_app"
    only_app = frontmost_window([], 5, "com.apple.Safari", "Safari")
    assert only_app is not None and only_app.title == "" and only_app.left is None
    assert frontmost_window(windows, None) is None
    assert screen_locked_from_session({"CGSSessionScreenIsLocked": True})
    assert not screen_locked_from_session({})
