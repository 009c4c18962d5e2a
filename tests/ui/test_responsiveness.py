"""The UI thread never stalls for more than 50 ms during search, chat, thumbnail loading or
forget (an event-loop latency probe: a 10 ms QTimer measuring how late it fires).

This machine is shared and often overloaded, so each phase may be measured up to three
times and its best run kept: a stall the app causes (a blocking call on the UI thread, a
worker holding the GIL, a long garbage collection) happens on every run; a spike from
other processes does not. Ticks during which an independent control process was starved
too are set aside (tests/ui/conftest.py LatencyProbe).
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import LatencyProbe, ScriptedChat, unlock

LIMIT_MS = 50
ATTEMPTS = 3


def test_ui_thread_stays_responsive(qtbot, app_parts, vault):
    backend = ScriptedChat(vault.ids, delay=0.002, repeat=20)
    app_parts.session._chat_override = backend
    app_parts.session._build_backends()
    app_parts.session.opened.emit()
    unlock(qtbot, app_parts)
    # The app loads the search model and index right after start and unlock (ui.session
    # warm_up); what is measured below is search, chat, thumbnails and forget themselves.
    qtbot.waitUntil(lambda: app_parts.session.models_ready, timeout=30000)
    shell = app_parts.window.shell
    runs: dict[str, list[float]] = {}

    def measure(name, action, done, timeout=60000, attempts=ATTEMPTS):
        for _ in range(attempts):
            probe = LatencyProbe()
            probe.start()
            action()
            qtbot.waitUntil(done, timeout=timeout)
            qtbot.wait(50)
            probe.stop()
            assert len(probe.ticks) > 3
            assert probe.starved < len(probe.ticks) / 2, "the machine was starved throughout"
            runs.setdefault(name, []).append(round(probe.worst_ms, 1))
            if probe.worst_ms <= LIMIT_MS:
                return

    # Thumbnails: switch days (moments decrypted, thumbnails decoded off the UI thread).
    timeline = shell.timeline
    qtbot.waitUntil(lambda: timeline.model.rowCount() > 0, timeout=20000)

    def switch_day():
        shell.thumbs.clear()
        timeline.days.setCurrentRow(1 - max(0, timeline.days.currentRow()))

    measure("thumbnails", switch_day, lambda: len(shell.thumbs) >= 1)

    # Search as you type.
    panel = shell.search
    app_parts.window.show_page("search")
    searched = []
    panel.searched.connect(lambda n, s: searched.append(n))
    queries = iter(["hotel booking", "launch notes", "monthly budget", "poster draft"])

    def type_query():
        panel.box.clear()
        qtbot.keyClicks(panel.box, next(queries), delay=30)

    def search_done(before=[0]):  # noqa: B006 - a counter across attempts
        if len(searched) > before[0]:
            before[0] = len(searched)
            return True
        return False

    measure("search", type_query, search_done)

    # Chat streaming (hundreds of tokens, re-rendered as they arrive).
    chat = shell.chat
    app_parts.window.show_page("chat")

    def ask():
        chat.input.setText("Where did I book a hotel?")
        qtbot.keyClick(chat.input, Qt.Key.Key_Return)

    measure("chat", ask, lambda: not chat.stream.running)

    # Forget everything (store dropped, keys destroyed) on the serial writer: once.
    shell.forget_flow._confirm = lambda scope, preview: True
    measure("forget", shell.settings.forget_all.click,
            lambda: shell.settings.forget_status.text().startswith("Forgot"), attempts=1)

    best = {name: min(values) for name, values in runs.items()}
    over = {k: v for k, v in best.items() if v > LIMIT_MS}
    assert over == {}, f"UI stalls over {LIMIT_MS} ms: {over} (every run: {runs})"
    print("worst UI stall per phase (ms):", runs)
