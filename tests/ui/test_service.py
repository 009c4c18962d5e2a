"""The capture service through the GUI: status, pause / resume from the tray and settings,
starting it through the supervisor, and telling the user when the supervisor gives up."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

from core.privacy.pause import PauseControl
from core.service_status import RUNNING, ServiceStatus, write_status
from tests.ui.conftest import unlock
from ui.backends import ServiceState
from ui.core_backends import ServiceCapture


def _running_service(run_dir, **fields) -> None:
    """A status file as a running service writes it (this process's pid is alive)."""
    now = datetime.now(UTC)
    write_status(run_dir, ServiceStatus(
        state=fields.pop("state", RUNNING), pid=os.getpid(),
        since=(now - timedelta(minutes=30)).isoformat(), updated=now.isoformat(),
        last_capture=(now - timedelta(seconds=4)).isoformat(), frames_captured=42,
        frames_skipped={"unchanged": 7, "idle": 3}, **fields))


def test_status_pause_and_resume_from_the_tray_and_settings(qtbot, app_parts):
    from ui.app_controller import AppController

    session = app_parts.session
    run_dir = session.paths.run_dir
    assert isinstance(session.service, ServiceCapture)
    controller = AppController(session, app_parts.window, app_parts.theme, app_parts.prefs)
    try:
        unlock(qtbot, app_parts)
        tray = controller.tray
        assert tray.state == "stopped" and "Not capturing" in tray.status_action.text()
        _running_service(run_dir)
        tray.refresh()
        assert tray.state == "capturing"
        text = tray.status_action.text()
        assert "42 stored" in text and "10 skipped" in text and "last capture" in text
        status = session.service.status()
        assert status.running and status.captured == 42 and status.skipped == 10
        assert status.last_capture is not None
        # Pause for 15 minutes from the tray: the pause file the service reads says so.
        assert all(a.isEnabled() for a in tray.pause_actions)
        assert not tray.resume_action.isEnabled()
        tray.pause_actions[0].trigger()
        qtbot.waitUntil(lambda: tray.state == "paused", timeout=5000)
        pause = PauseControl(run_dir).state()
        assert pause.paused and pause.until is not None
        left = pause.until - datetime.now(UTC)
        assert timedelta(minutes=14) < left <= timedelta(minutes=15)
        qtbot.waitUntil(lambda: tray.status_action.text().startswith("Paused until"),
                        timeout=5000)
        assert tray.resume_action.isEnabled()
        assert not any(a.isEnabled() for a in tray.pause_actions)
        # Settings shows the same state; resume from there.
        app_parts.window.show_page("settings")
        settings = app_parts.window.shell.settings
        settings.refresh_service()
        qtbot.waitUntil(lambda: settings.service_state.text().startswith("Paused until"),
                        timeout=5000)
        assert settings.resume_button.isEnabled()
        settings.resume_button.click()
        qtbot.waitUntil(lambda: not PauseControl(run_dir).state().paused, timeout=5000)
        qtbot.waitUntil(lambda: "42 stored" in settings.service_state.text(), timeout=5000)
        tray.refresh()
        assert tray.state == "capturing"
        # Pause until resumed (settings), then 1 hour (tray after resuming).
        settings.pause_buttons[2].click()
        qtbot.waitUntil(lambda: PauseControl(run_dir).state().paused, timeout=5000)
        assert PauseControl(run_dir).state().until is None
        qtbot.waitUntil(lambda: "until you resume it" in settings.service_state.text(),
                        timeout=5000)
        tray.refresh()
        tray.resume_action.trigger()
        qtbot.waitUntil(lambda: not PauseControl(run_dir).state().paused, timeout=5000)
        tray.refresh()
        tray.pause_actions[1].trigger()
        qtbot.waitUntil(lambda: tray.state == "paused", timeout=5000)
        left = PauseControl(run_dir).state().until - datetime.now(UTC)
        assert timedelta(minutes=59) < left <= timedelta(hours=1)
        # A service that waits for the sealed privacy lists is handed them (unlocked).
        _running_service(run_dir, state="waiting_for_unlock", handoff_key="ab" * 32)
        assert session.service.needs_policy()
        controller.check_service()
        handoff = run_dir / "policy-handoff.sealed"
        qtbot.waitUntil(handoff.exists, timeout=5000)
        assert b"launch" not in handoff.read_bytes()  # sealed, not plaintext
    finally:
        controller.dispose()


def test_enabling_capture_starts_the_supervised_service_and_a_give_up_is_shown(
        qtbot, app_parts, tmp_path):
    from ui.app_controller import AppController

    session = app_parts.session
    marker = tmp_path / "started"
    # A stand-in service that records its environment, then crashes every time.
    script = (f"import os, sys; open({str(marker)!r}, 'a').write(os.environ"
              f"['AFTERIMAGE_HOME'] + '\\n'); sys.exit(3)")
    service = ServiceCapture(app_parts.memory, session.paths, False,
                             command=[sys.executable, "-c", script],
                             supervisor_options={"max_restarts": 1, "backoff_s": 0.05})
    session._service_override = service
    session._build_backends()
    controller = AppController(session, app_parts.window, app_parts.theme, app_parts.prefs)
    try:
        unlock(qtbot, app_parts)
        settings = app_parts.window.shell.settings
        assert not settings.capture_enabled.isChecked()
        settings.capture_enabled.setChecked(True)
        assert service.enabled and app_parts.prefs.capture_enabled
        qtbot.waitUntil(lambda: service.status().state is ServiceState.ERROR, timeout=20000)
        lines = marker.read_text().splitlines()
        assert len(lines) == 2 and lines[0] == str(session.paths.data_dir)  # 1 restart
        assert "started" in service.events and "gave_up" in service.events
        controller.check_service()
        assert controller.tray.state == "error"
        assert "crashed 2 times" in controller.tray.status_action.text()
        assert "crashed 2 times" in app_parts.window.message.text()
        settings.capture_enabled.setChecked(False)
        assert not service.enabled and not app_parts.prefs.capture_enabled
        assert service.status().state is ServiceState.STOPPED
    finally:
        controller.dispose()
        service.close()
