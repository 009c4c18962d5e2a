"""Fixtures for tests that need a real X display (Xvfb + openbox)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.xenv import XEnvError, XSession


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """An X display name with an EWMH window manager; also exported as $DISPLAY.

    Reuses a working $DISPLAY (CI starts Xvfb itself) and starts openbox there if no window
    manager runs; otherwise starts its own Xvfb 1920x1080x24 and openbox, torn down at the end.
    """
    previous = os.environ.get("DISPLAY")
    try:
        session = XSession.start()
    except XEnvError as exc:
        pytest.fail(str(exc), pytrace=False)
    os.environ["DISPLAY"] = session.display
    try:
        yield session.display
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
