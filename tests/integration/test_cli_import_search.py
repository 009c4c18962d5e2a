"""`afterimage init`, `import`, `search`, `stats`, `forget --all` through the real CLI,
real OCR (RapidOCR), the real text encoder and the real encrypted store on disk."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.support import assert_secret_absent, render_text_png, run_cli, scan_files_for

pytestmark = pytest.mark.integration

SCREENS = {
    "2024-01-13_09-15-00.png": [
        "Flight booking confirmation",
        "Lisbon to Oslo, seat 14C",
        "Departure 07:45 from terminal 2",
    ],
    "2024-01-13_10-30-00.png": [
        "Sourdough starter recipe",
        "Feed the starter with rye flour",
        "and water every twelve hours",
    ],
    "2024-01-13_11-45-00.png": [
        "Quarterly revenue report",
        "Sales grew nine percent",
        "in the northern region",
    ],
    "2024-01-14_16-20-00.png": [
        "Kubernetes pod CrashLoopBackOff",
        "container exited with code 137",
        "out of memory killed",
    ],
    "2024-01-15_08-05-00.png": [
        "Piano lesson homework",
        "practice the C minor scale",
        "and the Chopin nocturne slowly",
    ],
}
SECRET = "ZQXJ-unicorn-4471-marmalade"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("imp")
    home = root / "home"
    shots = root / "shots"
    shots.mkdir()
    for name, lines in SCREENS.items():
        render_text_png(shots / name, lines)
    render_text_png(shots / "2024-01-15_09-00-00.png", ["Private diary", f"code {SECRET}"])
    (shots / "2024-01-14_16-20-00.json").write_text(
        json.dumps({"app": "Terminal", "title": "kubectl describe pod"})
    )
    res = run_cli(home, "init", "--json")
    assert res.code == 0, res.err
    assert res.json() == {"created": True, "vault": str(home / "vault")}
    res = run_cli(home, "import", str(shots), "--json")
    assert res.code == 0, res.err
    report = res.json()
    assert report["imported"] == 6 and report["failed"] == []
    assert report["time_sources"] == {"name": 6}
    return root, home, shots


def _search(home, *args):
    res = run_cli(home, "search", *args, "--json")
    assert res.code == 0, res.err
    return res.json()


def test_paraphrase_finds_the_right_screenshot(imported):
    _, home, _ = imported
    cases = {
        "plane ticket to Norway": "2024-01-13_09-15-00.png",
        "how to make bread dough rise": "2024-01-13_10-30-00.png",
        "company earnings went up": "2024-01-13_11-45-00.png",
        "container ran out of RAM": "2024-01-14_16-20-00.png",
        "music practice assignment": "2024-01-15_08-05-00.png",
    }
    for query, expected in cases.items():
        hits = _search(home, query)
        assert hits, query
        assert hits[0]["source"] == expected, (query, [h["source"] for h in hits])


def test_search_json_schema_and_filters(imported):
    _, home, _ = imported
    hits = _search(home, "pod crash", "--limit", "3")
    assert len(hits) == 3
    for h in hits:
        # The foundation's contract keys, plus the documented additions (docs/cli.md).
        assert set(h) == {"id", "timestamp", "app", "title", "source", "score", "snippet",
                          "caption", "monitor", "duplicates"}
        datetime.fromisoformat(h["timestamp"])
        assert isinstance(h["score"], float) and 0 <= h["score"] <= 1
    top = hits[0]
    assert (top["app"], top["title"]) == ("Terminal", "kubectl describe pod")
    assert "137" in top["snippet"] or "CrashLoopBackOff" in top["snippet"]
    only = _search(home, "anything", "--app", "terminal")
    assert [h["source"] for h in only] == ["2024-01-14_16-20-00.png"]
    day = _search(home, "report", "--since", "2024-01-13T00:00", "--until", "2024-01-14T00:00")
    assert {h["source"] for h in day} == {
        "2024-01-13_09-15-00.png",
        "2024-01-13_10-30-00.png",
        "2024-01-13_11-45-00.png",
    }
    bad = run_cli(home, "search", "x", "--since", "someday")
    assert bad.code == 2 and "not a time" in bad.err


def test_human_output_and_stats(imported):
    _, home, _ = imported
    res = run_cli(home, "search", "sourdough")
    assert res.code == 0 and "2024-01-13_10-30-00.png" in res.out and "id: " in res.out
    stats = run_cli(home, "stats", "--json", passphrase=None).json()
    assert stats["memories"] == 6
    assert stats["tiers"] == {"full": 6, "thumbnail": 0, "text": 0}
    assert stats["bytes_on_disk"] > stats["bytes_store"] > 0
    assert stats["data_keys"] >= 1


def test_reimport_skips_duplicates(imported):
    _, home, shots = imported
    res = run_cli(home, "import", str(shots / "2024-01-13_09-15-00.png"), "--json")
    assert res.code == 0, res.err
    assert res.json()["imported"] == 0 and res.json()["duplicates"] == 1


def test_import_reports_bad_files_and_keeps_going(imported, tmp_path):
    _, home, _ = imported
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    res = run_cli(home, "import", str(bad), str(tmp_path / "missing.png"), "--json")
    assert res.code == 1
    out = res.json()
    assert out["imported"] == 0 and out["failed"][0]["file"] == "broken.png"
    assert out["missing"] == [str(tmp_path / "missing.png")]


def _hash_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_wrong_passphrase_changes_nothing(imported):
    _, home, _ = imported
    before = _hash_tree(home / "vault")
    res = run_cli(home, "search", "flight", passphrase="not the passphrase")
    assert res.code == 3
    assert "passphrase" in res.err.lower() and "Traceback" not in res.err
    assert _hash_tree(home / "vault") == before


def test_secret_never_stored_in_plaintext(imported):
    root, home, _ = imported
    hits = _search(home, "private diary")
    assert hits[0]["source"] == "2024-01-15_09-00-00.png"
    assert SECRET in hits[0]["snippet"]  # it was read and stored: now prove it is sealed
    assert_secret_absent(home, SECRET)
    assert scan_files_for(root / "tmp", SECRET) == []


def test_forget_all(imported):
    root, home, _ = imported
    refused = run_cli(home, "forget", "--all")
    assert refused.code == 2  # no terminal, no --yes: refuses
    res = run_cli(home, "forget", "--all", "--yes", "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["memories"] == 6 and out["data_keys"] >= 1 and out["bytes_freed"] > 0
    assert _search(home, "flight") == []
    stats = run_cli(home, "stats", "--json").json()
    assert stats["memories"] == 0 and stats["data_keys"] == 0
    assert_secret_absent(home, SECRET)
