"""Storage and retention in Privacy & settings: the budget and retention are edited, the
projection (days until full, then days and bytes per tier) follows the edit, and Save writes
config.toml (validated: a bad combination is refused with a clear message)."""

from __future__ import annotations

import tomllib

from core.config import load_config
from tests.ui.conftest import unlock
from tests.ui.test_settings_tray import _import_recent


def _storage(qtbot, app_parts, tmp_path):
    unlock(qtbot, app_parts)
    _import_recent(app_parts, tmp_path, (3, 30, 90))  # a measurable growth per day
    app_parts.window.show_page("settings")
    storage = app_parts.window.shell.settings.storage
    qtbot.waitUntil(lambda: storage.memories.text() == "8", timeout=15000)
    return storage


def test_editing_the_budget_updates_the_projection(qtbot, app_parts, tmp_path):
    from dataclasses import replace

    storage = _storage(qtbot, app_parts, tmp_path)
    assert storage.budget_gb.value() == 10.0  # 10,240 MB from the config
    measured = storage.projection_now()
    assert measured.known and measured.days_until_full > 0
    # The test vault grows by a few KB a day; project a heavy user's 50 MB a day instead.
    storage.set_stats(replace(storage._stats, daily_growth_bytes=50_000_000))
    assert not storage.save_button.isEnabled()
    before_days = storage.projection.text()
    before_tiers = storage.tier_projection.text()
    assert before_days == "In about 193 days at about 50.0 MB a day."
    assert "Full screenshots: 1 day" in before_tiers  # keep_full_days = 1
    assert "Thumbnails: 6 days" in before_tiers  # up to keep_thumbnail_days = 7
    assert "Text only:" in before_tiers and "in all" in before_tiers
    projection = storage.projection_now()
    storage.budget_gb.setValue(1.0)
    smaller = storage.projection_now()
    assert smaller.days_until_full < projection.days_until_full
    assert smaller.history_days < projection.history_days
    assert storage.projection.text() == "In about 19 days at about 50.0 MB a day."
    assert storage.tier_projection.text() != before_tiers
    assert storage.budget.text().endswith("used (0%)")
    assert storage.edited_values()["budget_mb"] == 1024
    assert storage.save_button.isEnabled() and storage.status.text() == "Not saved yet."
    # An age limit ends the history before the budget does.
    storage.max_age.setValue(3)
    assert storage.projection.text().startswith("Never")
    assert "age limit" in storage.tier_projection.text()
    storage.revert()
    assert storage.budget_gb.value() == 10.0 and storage.max_age.value() == 0
    assert storage.tier_projection.text() == before_tiers


def test_save_writes_the_config_file(qtbot, app_parts, tmp_path):
    storage = _storage(qtbot, app_parts, tmp_path)
    paths = app_parts.session.paths
    storage.budget_gb.setValue(2.5)
    storage.max_age.setValue(90)
    storage.keep_full.setValue(2)
    storage.keep_thumb.setValue(14)
    storage.save_button.click()
    qtbot.waitUntil(lambda: storage.status.text().startswith("Saved"), timeout=10000)
    data = tomllib.loads(paths.config_file.read_text())
    assert data["schema_version"] == 1
    assert data["storage"] == {"budget_mb": 2560, "max_age_days": 90, "keep_full_days": 2,
                               "keep_thumbnail_days": 14}
    assert load_config(paths, environ={}).storage.budget_mb == 2560
    # The running app uses it: stats now report the new budget.
    assert app_parts.session.config.storage.budget_mb == 2560
    assert app_parts.memory.stats().budget_bytes == 2560 * 2**20
    assert not storage.save_button.isEnabled()


def test_invalid_retention_is_refused_with_a_clear_message(qtbot, app_parts, tmp_path):
    storage = _storage(qtbot, app_parts, tmp_path)
    paths = app_parts.session.paths
    before = paths.config_file.read_bytes() if paths.config_file.exists() else None
    storage.keep_full.setValue(10)
    storage.keep_thumb.setValue(3)
    storage.save_button.click()
    qtbot.waitUntil(lambda: storage.status.text().startswith("Not saved"), timeout=10000)
    assert "keep_thumbnail_days must be >= storage.keep_full_days" in storage.status.text()
    after = paths.config_file.read_bytes() if paths.config_file.exists() else None
    assert after == before
    assert app_parts.session.config.storage.keep_full_days == 1
    assert storage.save_button.isEnabled()  # the user can fix it and save again
