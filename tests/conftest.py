"""Session-wide test settings."""

from __future__ import annotations

import os
import sys

import pytest

_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """PySide6 6.12 can crash in its own interpreter-exit teardown (after every test has
    run and been reported), turning a green run into a segfault exit code. When Qt was
    loaded, leave at once with pytest's real exit status instead of running that teardown."""
    if "PySide6.QtCore" in sys.modules and _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])


@pytest.fixture
def background():
    """The capture service's inference mode (core/inference.py) for one test."""
    from core.inference import use_background_inference

    use_background_inference(True)
    try:
        yield
    finally:
        use_background_inference(False)
