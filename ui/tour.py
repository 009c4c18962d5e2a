"""Screenshot tour: renders every screen into docs/screenshots/*.png.

    QT_QPA_PLATFORM=offscreen python -m ui.tour [--out docs/screenshots]

Builds a throw-away vault (cheap key derivation) from rendered screenshots, then shows each
screen and grabs it. Nothing from the user's own vault is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

SHOTS = [
    ("2024-05-13_09-05-10", "firefox", "Hotel Miramar — booking", ["Hotel Miramar",
                                                                   "Check-in 14 June",
                                                                   "Sea view double room"]),
    ("2024-05-13_09-06-40", "firefox", "Hotel Miramar — payment", ["Payment", "Total 412 EUR"]),
    ("2024-05-13_09-30-00", "code", "budget.py — Visual Studio Code",
     ["def monthly_budget():", "    rent = 950", "    food = 420"]),
    ("2024-05-13_11-15-00", "thunderbird", "Launch plan — Inbox",
     ["Launch plan", "Ship the beta on Friday", "Owner: Dana"]),
    ("2024-05-13_14-02-00", "slack", "#design — Slack", ["New poster drafts are in",
                                                         "Feedback by Thursday please"]),
    ("2024-05-14_10-45-00", "gimp", "poster.xcf — GIMP", ["Poster draft v2"]),
]


def _render(folder: Path) -> list[Path]:
    from PIL import Image, ImageDraw, ImageFont

    files = []
    palette = ["#f8fafc", "#eef2ff", "#f0fdf4", "#fff7ed", "#fdf2f8", "#ecfeff"]
    for i, (name, app, title, lines) in enumerate(SHOTS):
        img = Image.new("RGB", (1280, 720), palette[i % len(palette)])
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, 1280, 44), fill="#334155")
        small = ImageFont.load_default(size=20)
        draw.text((16, 10), title, fill="white", font=small)
        font = ImageFont.load_default(size=40)
        y = 90
        for line in lines:
            draw.text((60, y), line, fill="#111827", font=font)
            y += 70
        path = folder / f"{name}.png"
        img.save(path)
        (folder / f"{name}.json").write_text(json.dumps({"app": app, "title": title}))
        files.append(path)
    return files


def _seed_history(memory: object) -> None:
    """What a few days of use leave behind: a capture-gap log, saved chats, privacy lists."""
    from datetime import datetime

    from core.chat.answer import Answer, Citation
    from core.gap_log import GapRecord
    from core.memory import Memory
    from core.privacy.policy import PrivacyPolicy

    assert isinstance(memory, Memory)

    def at(h: int, m: int) -> datetime:
        return datetime(2024, 5, 13, h, m).astimezone()

    log = memory.gap_log()
    for record in (GapRecord("start", at(8, 55), at(8, 55)),
                   GapRecord("paused", at(9, 8), at(9, 29)),
                   GapRecord("locked", at(9, 45), at(10, 20)),
                   GapRecord("stop", at(11, 30), at(11, 30)),
                   GapRecord("start", at(13, 50), at(13, 50))):
        log.append(record)
    memory.set_privacy_policy(PrivacyPolicy(
        excluded_apps=("signal-desktop", "keybase"), title_patterns=("Payroll*",),
        url_patterns=("mybank.example",)))
    hits = memory.search("Hotel Miramar", limit=1)
    cites = (Citation(1, hits[0].id, hits[0].timestamp, hits[0].app, hits[0].title),) \
        if hits else ()

    def answer(question: str, text: str) -> Answer:
        return Answer(question=question, text=text, citations=cites, route="rag",
                      model="gemma-3-270m", supported=True)

    store = memory.conversations
    conv, _ = store.add_turn(answer("Which hotel did I look at?",
                                    "The Hotel Miramar, a sea view double room [1]."))
    store.add_turn(answer("When is the check-in?", "On 14 June [1]."), conv)
    store.add_turn(Answer(question="When is the beta shipping?", text="On Friday.",
                          citations=(), route="rag", model="gemma-3-270m", supported=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--theme", choices=["light", "dark", "both"], default="both")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from core.config import Config, Paths, SecurityConfig
    from core.memory import Memory
    from core.vault import KdfParams
    from ui.backends import ForgetKind, ForgetScope
    from ui.background import Background
    from ui.forget import ForgetConfirmDialog
    from ui.gui_settings import GuiSettings
    from ui.main_window import MainWindow
    from ui.session import Session
    from ui.theme import Theme, ThemeChoice

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    passphrase = "correct horse battery staple"
    config = replace(Config(), security=SecurityConfig(kdf_memory_mib=8, kdf_iterations=1,
                                                       kdf_min_seconds=0),
                     consolidation=replace(Config().consolidation, in_app=False))

    def kdf() -> KdfParams:
        return KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1)

    def pump(ms: int = 200) -> None:
        # A nested event loop for ``ms`` (a tight processEvents(flags, ms) loop crashed
        # PySide 6.12 with a None reference-count error).
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(cond, ms: int = 30000) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QDeadlineTimer

        deadline = QDeadlineTimer(ms)
        while not cond() and not deadline.hasExpired():
            pump(20)

    def shoot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        pump(250)
        image = widget.grab().toImage()
        path = out / f"{name}.png"
        image.save(str(path), "PNG", 9)
        print(path)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shots = root / "shots"
        shots.mkdir()
        home = root / "home"
        paths = Paths(config_file=home / "config.toml", data_dir=home)
        memory = Memory.create(config, paths, passphrase, kdf=kdf())
        memory.import_paths(_render(shots))
        _seed_history(memory)
        memory.close()
        themes = ["light", "dark"] if args.theme == "both" else [args.theme]
        def run_theme(theme_name: str) -> None:
            suffix = "" if theme_name == "light" else "-dark"
            prefs = GuiSettings(root / f"gui-{theme_name}.ini")
            theme = Theme(ThemeChoice(theme_name))
            if theme_name == "light":
                # First run, on an empty folder.
                fresh = Paths(config_file=root / "fresh" / "c.toml", data_dir=root / "fresh")
                s0 = Session(config, fresh, Background(), display_available=False)
                w0 = MainWindow(s0, theme, prefs, kdf=kdf())
                w0.resize(1000, 700)
                w0.show()
                assert w0.wizard is not None
                page = w0.wizard.passphrase_page
                page.first.setText("correct horse battery")
                page.second.setText("correct horse battery")
                shoot(w0, "01-first-run-passphrase")
                w0.wizard.next()
                shoot(w0, "02-first-run-captured")
                w0.wizard.next()
                shoot(w0, "03-first-run-exclusions")
                w0.keep_running_on_close = False
                w0.close()
                s0.close()
            mem = Memory.open(config, paths)
            session = Session(config, paths, Background(), memory=mem, display_available=False)
            window = MainWindow(session, theme, prefs, kdf=kdf())
            window.keep_running_on_close = False
            window.resize(1180, 780)
            window.show()
            window.unlock_screen.passphrase.setText("wrong passphrase")
            window.unlock_screen.submit()
            wait(lambda: window.unlock_screen.failures == 1)
            shoot(window, f"04-unlock-failed{suffix}")
            window.unlock_screen.passphrase.setText(passphrase)
            window.unlock_screen.submit()
            wait(lambda: session.is_unlocked)
            shell = window.shell
            assert shell is not None
            timeline = shell.timeline
            wait(lambda: timeline.days.count() == 2 and timeline.viewer.record is not None)
            timeline.days.setCurrentRow(1)
            wait(lambda: timeline.viewer.image.has_image and timeline.viewer.record is not None)
            wait(lambda: timeline.episodes.count() > 0 and timeline.gaps.text() != "")
            timeline.hours.select(9)
            wait(lambda: len(timeline.model.moment_rows()) == 3)
            timeline.scrub.setValue(0)
            wait(lambda: timeline.viewer.record is not None
                 and timeline.viewer.record.app == "firefox")
            wait(lambda: timeline.viewer.image.has_image)
            wait(lambda: len(shell.thumbs) >= 3, 5000)
            shoot(window, f"05-timeline{suffix}")
            window.show_page("search")
            shell.search.box.setText("hotel booking")
            wait(lambda: shell.search.model.rowCount() > 0)
            wait(lambda: len(shell.thumbs) >= 4, 5000)
            shoot(window, f"06-search{suffix}")
            shell.search.results.setFocus()
            first_hit = shell.search.model.hit(0)
            assert first_hit is not None
            shell.open_memory(first_hit.id, shell.search)
            wait(lambda: shell.viewer.image.has_image and shell.viewer.record is not None)
            rec = shell.viewer.record
            if rec is not None and rec.ocr.lines:
                shell.viewer.image.box_clicked.emit(0)
            shoot(window, f"07-memory-viewer{suffix}")
            window.show_page("chat")
            chat = shell.chat
            wait(lambda: chat.conversation_count >= 2)
            chat.conversations.setCurrentRow(chat.conversation_count - 1)
            wait(lambda: "Miramar" in chat.transcript.toPlainText())
            shoot(window, f"08-chat{suffix}")
            window.show_page("settings")
            settings = shell.settings
            wait(lambda: settings.memories.text() not in ("—", ""))
            wait(lambda: settings.privacy.policy is not None)
            shoot(window, f"09-privacy-settings{suffix}")
            bar = settings.verticalScrollBar()
            own = settings.privacy.own_lists_label
            content = settings.widget()
            assert content is not None
            bar.setValue(own.mapTo(content, own.rect().topLeft()).y() - 8)
            shoot(window, f"09b-privacy-lists{suffix}")
            bar.setValue(settings.storage.mapTo(content,
                                                settings.storage.rect().topLeft()).y() - 8)
            shoot(window, f"09c-storage{suffix}")
            shell.settings.verticalScrollBar().setValue(
                shell.settings.verticalScrollBar().maximum())
            shoot(window, f"10-privacy-settings-bottom{suffix}")
            if theme_name == "light":
                stats = mem.stats()
                from ui.backends import ForgetPreview

                preview = ForgetPreview(memories=stats.memories, data_keys=stats.data_keys,
                                        bytes_on_disk=stats.bytes_store,
                                        oldest=stats.oldest_bucket, newest=stats.newest_bucket)
                dialog = ForgetConfirmDialog(ForgetScope(ForgetKind.EVERYTHING), preview)
                dialog.word.setText("forget")
                dialog.show()
                shoot(dialog, "11-forget-confirmation")
                dialog.close()
                from ui.app_controller import AppController

                controller = AppController(session, window, theme, prefs)
                controller.tray.menu.adjustSize()
                controller.tray.menu.popup(window.geometry().center())
                shoot(controller.tray.menu, "12-tray-menu")
                controller.tray.menu.hide()
                controller.dispose()
            session.lock()
            shoot(window, f"13-locked{suffix}")
            window.close()
            session.close()
        for theme_name in themes:
            run_theme(theme_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
