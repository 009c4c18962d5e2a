"""`afterimage forget` selectors, confirmation, --dry-run and --json through the real CLI
(real OCR on small screenshots, real store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import render_text_png, run_cli

pytestmark = pytest.mark.integration

SHOTS = {
    "2024-02-05_09-10-00.png": ("Terminal", ["apt install ripgrep"]),
    "2024-02-05_09-40-00.png": ("Firefox", ["train tickets to Porto"]),
    "2024-02-05_10-20-00.png": ("Terminal", ["git rebase interactive"]),
    "2024-02-05_14-05-00.png": ("Firefox", ["weather forecast Bergen"]),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shots = tmp_path / "shots"
    shots.mkdir()
    for name, (app, lines) in SHOTS.items():
        render_text_png(shots / name, lines, size=(480, 120), font_size=28)
        (shots / name).with_suffix(".json").write_text(json.dumps({"app": app}))
    assert run_cli(home, "init").code == 0
    res = run_cli(home, "import", str(shots), "--json")
    assert res.code == 0 and res.json()["imported"] == 4, res.err
    return home


def _ids(home: Path) -> dict[str, str]:
    hits = run_cli(home, "search", "anything", "--limit", "20", "--json").json()
    return {h["source"]: h["id"] for h in hits}


def test_forget_selectors_end_to_end(home: Path) -> None:
    # usage errors first: each is one clear message and changes nothing
    assert run_cli(home, "forget").code == 2
    assert run_cli(home, "forget", "--app", "x", passphrase=None).code == 2  # needs passphrase
    bad = run_cli(home, "forget", "--last", "15m", "--since", "2h")
    assert bad.code == 2 and "--last" in bad.err
    wrong = run_cli(home, "forget", "--app", "Firefox", "--yes", passphrase="wrong passphrase")
    assert wrong.code == 3
    ids = _ids(home)
    assert len(ids) == 4
    target = ids["2024-02-05_09-40-00.png"]
    dry = run_cli(home, "forget", "--id", target, "--dry-run", "--json")
    assert dry.code == 0, dry.err
    out = dry.json()
    assert out["dry_run"] is True and out["memories"] == 1 and out["apps"] == {"Firefox": 1}
    assert len(_ids(home)) == 4  # nothing changed

    refused = run_cli(home, "forget", "--app", "terminal")
    assert refused.code == 2 and "2 memories" in refused.err and "Terminal 2" in refused.err
    res = run_cli(home, "forget", "--app", "terminal", "--yes", "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["memories"] == 2 and out["data_keys"] >= 1 and out["bytes_freed"] > 0
    assert set(out) >= {"memories", "data_keys", "rekeyed_buckets", "bytes_freed"}
    assert set(_ids(home)) == {"2024-02-05_09-40-00.png", "2024-02-05_14-05-00.png"}

    # No passphrase and no terminal: a time range is forgotten by whole hours.
    res = run_cli(home, "forget", "--since", "2024-02-05T14:30", "--until", "2024-02-05T15:00",
                  "--yes", "--json", passphrase=None)
    assert res.code == 0, res.err
    out = res.json()
    assert out["whole_hours"] is True and out["memories"] == 1
    assert set(_ids(home)) == {"2024-02-05_09-40-00.png"}

    res = run_cli(home, "forget", "--query", "train tickets", "--limit", "1", "--yes")
    assert res.code == 0 and "Forgot 1 memory" in res.out, res.err
    assert _ids(home) == {}
    stats = run_cli(home, "stats", "--json", passphrase=None).json()
    assert stats["memories"] == 0 and stats["data_keys"] == 0

