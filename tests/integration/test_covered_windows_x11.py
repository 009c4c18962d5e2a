"""An excluded window that is visible but not focused is blacked out in the grab, on a real
X server (Xvfb + openbox): the window list, its stacking order and geometry come from X11."""

from __future__ import annotations

import pytest

from core.capture import MssScreenSource, X11WindowInfo
from core.privacy.covered import black_out, excluded_visible
from core.privacy.filter import PrivacyFilter
from core.privacy.policy import PrivacyPolicy
from tests.integration.xenv import open_text_window

pytestmark = pytest.mark.integration


def _dark(image, box) -> float:
    grey = image.crop(box).convert("L")
    return sum(grey.histogram()[:60]) / (grey.width * grey.height)


def test_unfocused_excluded_window_is_blacked_out(xdisplay: str) -> None:
    privacy = PrivacyFilter(PrivacyPolicy(title_patterns=("*Secret Ledger*",)))
    with open_text_window("zebra kumquat", "Secret Ledger", geometry=(960, 100, 900, 800)), \
            open_text_window("ordinary words", "Plain Notes", geometry=(60, 100, 800, 800)), \
            X11WindowInfo() as windows, MssScreenSource() as screen:
        focused = windows.active_window()
        assert focused is not None and focused.title == "Plain Notes"
        stack = windows.visible_windows()
        titles = [w.title for w in stack]
        assert titles.index("Secret Ledger") < titles.index("Plain Notes")  # bottom to top
        ledger = stack[titles.index("Secret Ledger")]
        assert ledger.left is not None and ledger.width is not None
        assert abs(ledger.left - 960) <= 20 and abs(ledger.width - 900) <= 20
        covered = excluded_visible(stack, privacy.window_reason, focused)
        assert covered.reasons == ("excluded_title",)
        frame = screen.grab_all()[0]
        hidden = black_out(frame, covered.boxes)
        assert hidden is not None
        inside = (ledger.left + 20, ledger.top + 20, ledger.left + ledger.width - 20,
                  ledger.top + 200)
        assert _dark(frame.image, inside) < 0.5  # a white window showing text
        assert _dark(hidden.image, inside) == 1.0  # black in what the service keeps
        notes = (100, 150, 800, 300)
        assert _dark(hidden.image, notes) == _dark(frame.image, notes)  # untouched
