"""While unlocked the app captions memories in the background (the real default captioner),
a batch at a time, without holding the index for the model's work; lock stops it."""

from __future__ import annotations

from tests.ui.conftest import PASSPHRASE, cheap_config


def test_app_captions_in_the_background_and_stops_on_lock(qtbot, vault):
    from core.memory import Memory
    from ui.background import Background
    from ui.session import Session

    config = cheap_config(consolidate_in_app=True)
    memory = Memory.open(config, vault.paths)
    memory.unlock(PASSPHRASE)
    session = Session(config, vault.paths, Background(), memory=memory,
                      display_available=False)
    try:
        before = memory.consolidation_pending()
        assert before == len(vault.ids)
        handle = session.consolidate_in_background()
        assert handle is not None
        # searches are not held up while the model writes captions
        found: list = []
        from ui.session import SearchRequest

        session.search(SearchRequest("budget"), on_success=found.append)
        qtbot.waitUntil(lambda: bool(found), timeout=30_000)
        qtbot.waitUntil(lambda: session.consolidation_runs >= 1, timeout=240_000)
        after = memory.consolidation_pending()
        assert after < before
        captioned = [memory.get(i) for i in vault.ids]
        assert any(r is not None and r.caption for r in captioned)
        assert session._consolidation.isActive()  # the next batch is scheduled
        session.lock()
        qtbot.waitUntil(lambda: not session._consolidation.isActive(), timeout=5_000)
        assert session.consolidate_in_background() is None  # nothing runs while locked
    finally:
        session.close()
