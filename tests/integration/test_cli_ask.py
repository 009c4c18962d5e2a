"""`afterimage ask` end to end: real OCR import, the real store, and the embedded Gemma 3
270M (no download), then chat history and forgetting through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.support import render_text_png, run_cli, scan_files_for

pytestmark = pytest.mark.integration

SCREENS = {
    "2024-01-13_09-15-00.png": (["Hotel Lisboa Alfama", "Double room 120 EUR per night"],
                                {"app": "firefox", "title": "Hotel Lisboa - Booking.com"}),
    "2024-01-13_09-17-00.png": (["npm run build", "Error: Cannot find module left-pad"],
                                {"app": "Terminal", "title": "bash"}),
    "2024-01-13_09-19-00.png": (["npm run build", "Build finished"],
                                {"app": "Terminal", "title": "bash"}),
}
QUESTION_SECRET = "Which hotel did I look at for the kumquat trip?"
FAST = {"AFTERIMAGE_CHAT__MAX_TOKENS": "24"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask")
    home = root / "home"
    shots = root / "shots"
    shots.mkdir()
    for name, (lines, meta) in SCREENS.items():
        render_text_png(shots / name, lines, size=(800, 300))
        (shots / name.replace(".png", ".json")).write_text(json.dumps(meta))
    assert run_cli(home, "init").code == 0
    res = run_cli(home, "import", str(shots), "--json")
    assert res.code == 0 and res.json()["imported"] == 3, res.err
    return home


def _ids(home):
    res = run_cli(home, "search", "hotel", "--json", "--limit", "10")
    return {h["title"]: h["id"] for h in res.json()}


def test_ask_with_the_embedded_model(home):
    res = run_cli(home, "ask", QUESTION_SECRET, "--json", env=FAST)
    assert res.code == 0, res.err
    out = res.json()
    assert set(out) >= {"answer", "citations", "route", "model", "supported"}
    assert out["route"] == "search" and out["model"] == "gemma-3-270m"
    assert out["answer"]
    ids = _ids(home)
    for c in out["citations"]:
        assert set(c) == {"n", "id", "timestamp", "app", "title"}
        assert c["id"] in ids.values()
    if out["supported"]:
        assert out["citations"][0]["id"] == ids["Hotel Lisboa - Booking.com"]
    else:
        assert out["citations"] == [] and "couldn't find" in out["answer"]
    # The embedded model was assembled into the models folder, not downloaded.
    assert (home / "models" / "embedded" / "gemma-3-270m-q4_k_m.gguf").is_file()


def test_aggregate_and_timeline_routes_are_exact(home):
    res = run_cli(home, "ask", "how long was I in Terminal on 2024-01-13?", "--json")
    out = res.json()
    assert res.code == 0 and out["route"] == "aggregate" and out["supported"]
    assert out["model"] is None and "2 min" in out["answer"]  # 09:17 -> 09:19, then 3 s
    assert [c["title"] for c in out["citations"]] == ["bash", "bash"]
    res = run_cli(home, "ask", "what was I doing at 9:16 on 2024-01-13?")
    assert res.code == 0 and "firefox" in res.out and "Sources:" in res.out


def test_history_is_listed_encrypted_and_forgotten(home):
    res = run_cli(home, "chats", "--json")
    convs = res.json()
    assert res.code == 0 and any(c["title"] == QUESTION_SECRET for c in convs)
    assert scan_files_for(home, "kumquat") == []
    shown = run_cli(home, "chats", "show", convs[0]["id"], "--json")
    assert shown.code == 0 and shown.json()[0]["question"]
    listed = run_cli(home, "ask", "--list", "--json")
    assert listed.code == 0 and listed.json() == convs
    res = run_cli(home, "chats", "forget", convs[-1]["id"], "--json", passphrase=None)
    assert res.code == 0 and res.json()["turns"] >= 1
    assert len(run_cli(home, "chats", "--json").json()) == len(convs) - 1


def test_models_list_and_bad_model(home):
    res = run_cli(home, "models", "list", "--json")
    names = [m["name"] for m in res.json()]
    assert names[0] == "gemma-3-270m" and "qwen2.5-1.5b-instruct" in names
    res = run_cli(home, "ask", "which hotel", "--model", "qwen2.5-1.5b-instruct")
    assert res.code == 1 and "models download qwen2.5-1.5b-instruct" in res.err
    res = run_cli(home, "models", "download", "moondream2")
    assert res.code == 2 and "--allow-unpinned" in res.err
    res = run_cli(home, "ask", "")
    assert res.code == 2
