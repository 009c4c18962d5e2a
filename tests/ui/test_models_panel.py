"""The model manager panel: catalog, download with progress from a (local) server with the
pinned checksum, verify, remove; a failed download says why and installs nothing."""

from __future__ import annotations

import pytest

from core.models.catalog import CatalogEntry, CatalogFile
from tests.core.test_model_download import PAYLOAD, SHA, _Server
from tests.ui.conftest import unlock


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def test_download_verify_remove_from_the_settings_page(qtbot, app_parts, server, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    import core.models.installed as installed

    entry = CatalogEntry("tiny-chat", "chat", "Tiny chat model", "MIT", files=(
        CatalogFile("tiny.gguf", server.url + "/model.gguf", len(PAYLOAD), SHA),), approx_mb=1)
    monkeypatch.setattr(installed, "CATALOG", (entry,))
    monkeypatch.setattr(installed, "find_entry", lambda name: entry)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    unlock(qtbot, app_parts)
    app_parts.window.show_page("settings")
    panel = app_parts.window.shell.settings.models
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.topLevelItemCount() == 1, timeout=10_000)
    item = panel.table.topLevelItem(0)
    assert item.text(0) == "Tiny chat model" and item.text(3) == "not installed"
    panel.table.setCurrentItem(item)
    assert panel.download_button.isEnabled() and not panel.remove_button.isEnabled()
    progress: list[tuple[int, int]] = []
    original = panel._on_progress
    monkeypatch.setattr(panel, "_on_progress", lambda d, t: (progress.append((d, t)),
                                                              original(d, t)))
    panel.download()
    qtbot.waitUntil(lambda: panel.table.topLevelItemCount() == 1 and
                    panel.table.topLevelItem(0).text(3) == "installed", timeout=30_000)
    models = app_parts.session.paths.models_dir
    assert (models / "tiny.gguf").read_bytes() == PAYLOAD
    assert "checked" in panel.status.text() and not panel.progress.isVisible()
    panel.table.setCurrentItem(panel.table.topLevelItem(0))
    panel.verify()
    qtbot.waitUntil(lambda: "match" in panel.status.text(), timeout=10_000)
    (models / "tiny.gguf").write_bytes(b"tampered")
    panel.verify()
    qtbot.waitUntil(lambda: "mismatch" in panel.status.text(), timeout=10_000)
    panel.remove()
    qtbot.waitUntil(lambda: panel.table.topLevelItem(0).text(3) == "not installed",
                    timeout=10_000)
    assert not (models / "tiny.gguf").exists()


def test_a_failed_download_says_why(qtbot, app_parts, monkeypatch):
    import core.models.installed as installed

    entry = CatalogEntry("tiny-chat", "chat", "Tiny chat model", "MIT", files=(
        CatalogFile("tiny.gguf", "http://127.0.0.1:9/model.gguf", 10, SHA),), approx_mb=1)
    monkeypatch.setattr(installed, "CATALOG", (entry,))
    monkeypatch.setattr(installed, "find_entry", lambda name: entry)
    unlock(qtbot, app_parts)
    app_parts.window.show_page("settings")
    panel = app_parts.window.shell.settings.models
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.topLevelItemCount() == 1, timeout=10_000)
    panel.table.setCurrentItem(panel.table.topLevelItem(0))
    panel.download()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Not downloaded"), timeout=30_000)
    assert "offline" in panel.status.text()
    assert panel.table.topLevelItem(0).text(3) == "not installed"
    assert not (app_parts.session.paths.models_dir / "tiny.gguf").exists()
