"""Capture sources fail with NoDisplay, and a useful message, when there is no X display."""

from __future__ import annotations

import pytest

from core.capture import MssScreenSource, X11WindowInfo, default_screen_source, default_window_info
from core.errors import NoDisplay


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def test_default_sources_without_display_tell_the_user_to_set_display(no_display: None) -> None:
    with pytest.raises(NoDisplay, match="DISPLAY"):
        default_screen_source()
    with pytest.raises(NoDisplay, match="DISPLAY"):
        default_window_info()


def test_wayland_only_session_is_reported_as_unsupported(
    no_display: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(NoDisplay, match="Wayland"):
        default_screen_source()
    with pytest.raises(NoDisplay, match="Wayland"):
        default_window_info()


def test_sources_fail_lazily_on_first_use(no_display: None) -> None:
    screen, windows = MssScreenSource(), X11WindowInfo()  # constructing touches nothing
    with pytest.raises(NoDisplay):
        screen.grab_all()
    with pytest.raises(NoDisplay):
        windows.active_window()
    screen.close()
    windows.close()


def test_unreachable_display_raises_no_display() -> None:
    # Display :4242 is assumed to have no X server (no /tmp/.X11-unix/X4242 socket).
    with pytest.raises(NoDisplay):
        MssScreenSource(":4242").grab_all()
    with pytest.raises(NoDisplay):
        X11WindowInfo(":4242").active_window()
