"""Privacy & settings (forget, passphrase, theme), the tray, close-to-tray, single instance."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from core.memory import Memory
from tests.support import PASSPHRASE
from tests.ui.conftest import cheap_config, unlock
from ui.backends import ForgetKind, ForgetScope
from ui.forget import ForgetConfirmDialog


def test_forget_everything_says_exactly_what_goes(qtbot, app_parts, vault):
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    app_parts.window.show_page("settings")
    settings = shell.settings
    qtbot.waitUntil(lambda: settings.memories.text() == "5", timeout=10000)
    assert "5 full" in settings.tiers.text()
    for key in ("last5", "last15", "last60", "range", "app", "all"):
        assert settings.forget_buttons[key].isEnabled()
    seen = {}

    def confirm(scope, preview):
        dialog = ForgetConfirmDialog(scope, preview)
        seen["text"] = dialog.summary.text()
        assert not dialog.ok.isEnabled()
        dialog.word.setText("forget")
        seen["enabled"] = dialog.ok.isEnabled()
        return False  # first time: the user cancels

    flow = shell.forget_flow
    flow._confirm = confirm
    settings.forget_all.click()
    qtbot.waitUntil(lambda: "text" in seen, timeout=10000)
    assert "5 memories" in seen["text"]
    assert "Mon 13 May 2024" in seen["text"] and "Tue 14 May 2024" in seen["text"]
    assert "encryption key" in seen["text"] and "cannot be undone" in seen["text"]
    assert seen["enabled"]
    qtbot.waitUntil(lambda: not flow.running, timeout=5000)
    assert settings.forget_status.text() == "Nothing was forgotten."
    # Now for real.
    flow._confirm = lambda scope, preview: True
    settings.forget_all.click()
    qtbot.waitUntil(lambda: settings.forget_status.text().startswith("Forgot"), timeout=30000)
    assert "Forgot 5 memories" in settings.forget_status.text()
    timeline = shell.timeline
    qtbot.waitUntil(lambda: timeline.empty.isVisibleTo(timeline), timeout=10000)
    assert len(shell.thumbs) == 0
    qtbot.waitUntil(lambda: settings.memories.text() == "0", timeout=10000)


def _import_recent(app_parts, tmp_path, minutes_ago: tuple[int, ...]) -> list[str]:
    """Memories from a few minutes ago (the vault's own are from 2024)."""
    import json
    from datetime import datetime, timedelta

    from tests.support import render_text_png

    files = []
    for i, minutes in enumerate(minutes_ago):
        when = datetime.now() - timedelta(minutes=minutes)
        path = render_text_png(tmp_path / f"{when:%Y-%m-%d_%H-%M-%S}.png",
                               [f"Recent note {i}"], size=(320, 120), font_size=22)
        (tmp_path / f"{when:%Y-%m-%d_%H-%M-%S}.json").write_text(
            json.dumps({"app": "kate", "title": f"note {i}"}))
        files.append(path)
    report = app_parts.memory.import_paths(files)
    assert len(report.imported) == len(files), report.failed
    app_parts.session.changed.emit()
    return list(report.imported)


def test_forget_last_15_minutes_preview_matches(qtbot, app_parts, tmp_path):
    unlock(qtbot, app_parts)
    recent, older = _import_recent(app_parts, tmp_path, (5, 40))
    shell = app_parts.window.shell
    app_parts.window.show_page("settings")
    settings = shell.settings
    seen = {}

    def confirm(scope, preview):
        seen["preview"] = preview
        seen["text"] = ForgetConfirmDialog(scope, preview).summary.text()
        return True

    shell.forget_flow._confirm = confirm
    settings.forget_buttons["last15"].click()
    qtbot.waitUntil(lambda: settings.forget_status.text().startswith("Forgot"), timeout=30000)
    preview = seen["preview"]
    assert preview.memories == 1 and preview.apps == (("kate", 1),)
    assert preview.data_keys == 1 and preview.oldest == preview.newest
    assert "1 memory" in seen["text"] and "the last 15 minutes" in seen["text"]
    assert "kate (1)" in seen["text"]
    assert "Forgot 1 memory" in settings.forget_status.text()
    memory = app_parts.memory
    assert memory.record(recent) is None and memory.record(older) is not None
    assert memory.stats().memories == 6


def test_forget_this_memory_from_the_viewer(qtbot, app_parts, vault):
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    timeline = shell.timeline
    qtbot.waitUntil(lambda: timeline.days.count() == 2, timeout=20000)
    viewer = timeline.viewer
    qtbot.waitUntil(lambda: viewer.record is not None
                    and viewer.record.title == "Magenta poster", timeout=10000)
    poster = viewer.record.id
    assert viewer.forget_this.isEnabled() and viewer.forget_app.isEnabled()
    assert viewer.forget_hour.isEnabled()
    before = [h.id for h in app_parts.memory.search("Poster draft", limit=5)]
    assert poster in before
    seen = {}

    def confirm(scope, preview):
        dialog = ForgetConfirmDialog(scope, preview)
        seen["text"] = dialog.summary.text()
        assert not dialog.ok.isEnabled()
        dialog.word.setText("forget")
        assert dialog.ok.isEnabled()
        dialog.ok.click()
        return dialog.result() == ForgetConfirmDialog.DialogCode.Accepted

    shell.forget_flow._confirm = confirm
    viewer.forget_this.click()
    qtbot.waitUntil(lambda: "Forgot 1 memory" in shell.settings.forget_status.text(),
                    timeout=30000)
    assert "this moment" in seen["text"] and "1 memory" in seen["text"]
    assert "gimp (1)" in seen["text"] and "Tue 14 May 2024 16:45" in seen["text"]
    # Gone from the timeline (its day is empty now) and from search.
    qtbot.waitUntil(lambda: timeline.days.count() == 1, timeout=20000)
    assert "4 moments" in timeline.days.item(0).text()
    after = [h.id for h in app_parts.memory.search("Poster draft", limit=5)]
    assert poster not in after
    assert app_parts.memory.record(poster) is None


def test_forget_an_app_from_settings(qtbot, app_parts):
    unlock(qtbot, app_parts)
    shell = app_parts.window.shell
    settings = shell.settings
    settings.pick_app = lambda parent: ForgetScope(ForgetKind.APP, app="firefox")
    seen = {}
    shell.forget_flow._confirm = lambda scope, preview: seen.setdefault("p", preview) and True
    settings.forget_buttons["app"].click()
    qtbot.waitUntil(lambda: settings.forget_status.text().startswith("Forgot"), timeout=30000)
    assert seen["p"].memories == 2 and seen["p"].apps == (("firefox", 2),)
    assert app_parts.memory.stats().memories == 3
    assert not [h for h in app_parts.memory.search("Hotel Miramar", limit=5)
                if h.app == "firefox"]


def test_change_passphrase_then_unlock_with_the_new_one(qtbot, app_parts, vault):
    unlock(qtbot, app_parts)
    settings = app_parts.window.shell.settings
    settings.old_pass.setText(PASSPHRASE)
    settings.new_pass.setText("a brand new passphrase here")
    settings.new_pass2.setText("a brand new passphrase here!")
    assert not settings.change_pass.isEnabled()
    assert "do not match" in settings.pass_hint.text()
    settings.new_pass2.setText("a brand new passphrase here")
    settings.change_pass.click()
    qtbot.waitUntil(lambda: "Passphrase changed" in settings.pass_hint.text(), timeout=20000)
    assert settings.old_pass.text() == ""
    app_parts.session.lock()
    qtbot.waitUntil(lambda: app_parts.session.background.pending() == 0, timeout=5000)
    unlock(qtbot, app_parts, "a brand new passphrase here")


def test_theme_follows_choice(qtbot, app_parts):
    unlock(qtbot, app_parts)
    settings = app_parts.window.shell.settings
    settings.theme_choice.setCurrentIndex(settings.theme_choice.findData("dark"))
    assert QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert app_parts.prefs.theme.value == "dark"
    settings.theme_choice.setCurrentIndex(settings.theme_choice.findData("light"))
    assert QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_tray_close_to_tray_lock_and_single_instance(qtbot, app_parts, vault):
    from ui.app_controller import AppController
    from ui.single_instance import SingleInstance

    first = SingleInstance(vault.home)
    assert first.acquire()
    controller = AppController(app_parts.session, app_parts.window, app_parts.theme,
                               app_parts.prefs, first)
    app = QApplication.instance()
    assert not app.quitOnLastWindowClosed()
    tray = controller.tray
    assert tray.state == "locked"
    assert tray.tray.toolTip().startswith("Afterimage — Locked")
    unlock(qtbot, app_parts)
    assert tray.state == "stopped"  # the capture service is not running
    assert "Not capturing" in tray.status_action.text()
    for action in (*tray.pause_actions, tray.resume_action):
        assert not action.isEnabled()  # nothing to pause
    assert not tray.capture_action.isEnabled()  # no display in this test session
    # Closing the window keeps the app: the window hides, the session stays.
    window = app_parts.window
    window.keep_running_on_close = True
    window.close()
    assert not window.isVisible() and app_parts.session.is_unlocked
    # A second launch finds the first, which shows its window.
    second = SingleInstance(vault.home)
    assert not second.acquire()
    qtbot.waitUntil(window.isVisible, timeout=5000)
    # Lock from the tray drops everything.
    tray.lock_action.trigger()
    assert not app_parts.session.is_unlocked
    assert window.stack.currentWidget() is window.unlock_screen
    assert tray.state == "locked"
    # Quick chat while locked asks to unlock.
    tray.chat_action.trigger()
    assert "Unlock" in controller.quick_chat.note.text()
    controller.quick_chat.hide()
    first.release()
    window.keep_running_on_close = False
    controller.dispose()
    qtbot.wait(10)


def test_idle_lock(qtbot, app_parts):
    from ui.idle_lock import IdleLock

    unlock(qtbot, app_parts)
    idle = IdleLock(5)
    idle.idle.connect(app_parts.session.lock)
    idle.set_interval_ms(100)
    qtbot.waitUntil(lambda: not app_parts.session.is_unlocked, timeout=3000)
    assert app_parts.window.stack.currentWidget() is app_parts.window.unlock_screen
    QApplication.instance().removeEventFilter(idle)
    idle.set_minutes(0)


def test_vault_is_untouched_by_a_failed_forget_preview(app_parts, vault):
    # Sanity: the facade the GUI used still opens the copied vault.
    memory = Memory.open(cheap_config(), vault.paths)
    memory.unlock(PASSPHRASE)
    assert memory.stats().memories == 5
    memory.close()


def test_storage_shows_bytes_per_tier_budget_and_projection(qtbot, app_parts):
    from dataclasses import replace

    from core.storage_projection import project_budget
    from ui.forget import human_bytes
    from ui.storage_editor import describe_projection

    unlock(qtbot, app_parts)
    app_parts.window.show_page("settings")
    settings = app_parts.window.shell.settings
    qtbot.waitUntil(lambda: settings.memories.text() == "5", timeout=10000)
    stats = app_parts.memory.stats()
    assert stats.bytes_by_tier and stats.budget_bytes == 10_240 * 1024 * 1024
    for name, n in stats.bytes_by_tier.items():
        assert f"{name} {human_bytes(n)}" in settings.by_tier.text()
    assert f"{human_bytes(stats.bytes_store)} used" in settings.budget.text()
    assert settings.storage.budget_gb.value() * 1024 * 2**20 == stats.budget_bytes
    storage = app_parts.session.config.storage

    def described(**changes):
        s = replace(stats, **changes)
        return describe_projection(s, project_budget(storage, s.bytes_store,
                                                     s.daily_growth_bytes, s.row_bytes))

    assert settings.projection.text() == described()
    # The projection reads as a user expects for each case.
    assert described(daily_growth_bytes=None).startswith("Not enough history")
    budget_at = storage.budget_mb * 2**20 * storage.degrade_at_fraction
    growth = int((budget_at - stats.bytes_store) / 41.6)
    text = described(daily_growth_bytes=growth)
    assert text == f"In about 42 days at about {human_bytes(growth)} a day."
    assert described(bytes_store=int(budget_at) + 1,
                     daily_growth_bytes=250_000_000).startswith("Reached")
    # Locking clears it.
    app_parts.session.lock()
    assert settings.by_tier.text() == "—" and settings.budget.text() == "—"


def test_choosing_which_scripts_ocr_reads_is_saved_to_the_config(qtbot, app_parts, vault):
    from core.config import load_config

    unlock(qtbot, app_parts)
    settings = app_parts.window.shell.settings
    assert settings.scripts.currentData() == "auto"
    assert "system language" in settings.scripts.currentText()
    settings.scripts.setCurrentIndex(settings.scripts.findData("all"))
    qtbot.waitUntil(lambda: settings.scripts_note.text().startswith("Saved"), timeout=10_000)
    assert load_config(vault.paths, environ={}).ocr.scripts == "all"
    assert app_parts.session.config.ocr.scripts == "all"
