"""Privacy & settings: the user's exclusion lists and per-detector actions are edited in the
GUI, saved sealed in the vault through the Memory facade, and only while unlocked."""

from __future__ import annotations

from core.memory import Memory
from core.privacy.policy import DROP, REDACT, REDACT_SPAN
from tests.support import PASSPHRASE
from tests.ui.conftest import cheap_config, unlock


def _stored_policy(vault):
    memory = Memory.open(cheap_config(), vault.paths)
    try:
        memory.unlock(PASSPHRASE)
        return memory.privacy_policy()
    finally:
        memory.close()


def _editor(qtbot, app_parts):
    unlock(qtbot, app_parts)
    app_parts.window.show_page("settings")
    editor = app_parts.window.shell.settings.privacy
    qtbot.waitUntil(lambda: editor.policy is not None, timeout=10000)
    return editor


def _add(qtbot, editor, field, value):
    lists = editor.lists[field]
    lists.edit.setText(value)
    assert lists.add_button.isEnabled()
    lists.add_button.click()
    qtbot.waitUntil(lambda: editor.status.text().startswith("Saved"), timeout=10000)


def test_lists_are_locked_until_unlock_and_cleared_on_lock(qtbot, app_parts, vault):
    editor = _editor(qtbot, app_parts)
    assert all(lst.isEnabled() for lst in editor.lists.values())
    assert all(combo.isEnabled() for combo in editor.detector_actions.values())
    _add(qtbot, editor, "excluded_apps", "signal-desktop")
    _add(qtbot, editor, "url_patterns", "mybank.example")
    assert editor.lists["excluded_apps"].values() == ["signal-desktop"]
    app_parts.session.lock()
    for lst in editor.lists.values():
        assert lst.values() == [] and not lst.isEnabled() and not lst.edit.isEnabled()
    assert all(not combo.isEnabled() for combo in editor.detector_actions.values())
    assert "Unlock" in editor.status.text()
    assert editor.policy is None
    # Unlocking shows the sealed lists again (read back from the vault).
    unlock(qtbot, app_parts)
    qtbot.waitUntil(lambda: editor.lists["url_patterns"].values() == ["mybank.example"],
                    timeout=10000)
    assert editor.lists["excluded_apps"].values() == ["signal-desktop"]


def test_add_remove_and_detector_actions_are_sealed_in_the_vault(qtbot, app_parts, vault):
    editor = _editor(qtbot, app_parts)
    assert editor.lists["excluded_apps"].values() == []
    _add(qtbot, editor, "excluded_apps", "signal-desktop")
    _add(qtbot, editor, "excluded_apps", "keybase")
    _add(qtbot, editor, "title_patterns", "Payroll*")
    _add(qtbot, editor, "url_patterns", "mybank.example")
    assert editor.lists["excluded_apps"].edit.text() == ""  # the box is ready for the next
    # Remove one entry by selecting it.
    apps = editor.lists["excluded_apps"]
    apps.entries.item(0).setSelected(True)
    assert apps.remove_button.isEnabled()
    apps.remove_button.click()
    qtbot.waitUntil(lambda: apps.values() == ["keybase"] and editor.status.text()
                    .startswith("Saved"), timeout=10000)
    # Per-detector choice: drop payment cards instead of redacting them; redact keys.
    cards = editor.detector_actions["payment_card"]
    assert cards.currentData() == REDACT
    cards.setCurrentIndex(cards.findData(DROP))
    qtbot.waitUntil(lambda: editor.status.text().startswith("Saved"), timeout=10000)
    pem = editor.detector_actions["private_key"]
    assert pem.currentData() == DROP  # the default
    pem.setCurrentIndex(pem.findData(REDACT))
    qtbot.waitUntil(lambda: editor.status.text().startswith("Saved"), timeout=10000)
    editor.mode.setCurrentIndex(editor.mode.findData(REDACT_SPAN))
    qtbot.waitUntil(lambda: editor.status.text().startswith("Saved"), timeout=10000)
    qtbot.waitUntil(lambda: _stored_policy(vault).redact_mode == REDACT_SPAN, timeout=10000)
    stored = _stored_policy(vault)
    assert stored.excluded_apps == ("keybase",)
    assert stored.title_patterns == ("Payroll*",)
    assert stored.url_patterns == ("mybank.example",)
    assert stored.action("payment_card") == DROP
    assert stored.action("private_key") == REDACT
    # Sealed: the lists are nowhere on disk in plaintext.
    for path in vault.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (b"keybase", b"mybank.example", b"Payroll"):
                assert secret not in data, path


def test_invalid_entries_get_a_clear_message_and_nothing_changes(qtbot, app_parts, vault):
    editor = _editor(qtbot, app_parts)
    _add(qtbot, editor, "title_patterns", "Payroll")
    titles = editor.lists["title_patterns"]
    titles.edit.setText("re:([unclosed")
    titles.add_button.click()
    assert "regular expression" in editor.status.text()
    assert titles.values() == ["Payroll"]
    assert titles.edit.text() == "re:([unclosed"  # kept for the user to fix
    titles.edit.setText("Payroll")
    titles.add_button.click()
    assert "already" in editor.status.text()
    assert _stored_policy(vault).title_patterns == ("Payroll",)


def test_status_says_what_to_do_on_the_settings_page(qtbot, app_parts):
    unlock(qtbot, app_parts)
    app_parts.window.show_page("settings")
    settings = app_parts.window.shell.settings
    settings.refresh_service()
    text = settings.service_state.text()
    assert text.startswith("Not capturing")
    assert "in Privacy & settings" not in text  # the user is on that page already
    assert "below" in text and settings.capture_enabled.text() in text
