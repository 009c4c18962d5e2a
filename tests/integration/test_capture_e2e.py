"""The foundation's end-to-end path on a real X display: a real window, `afterimage capture
--once`, then `afterimage search` for a paraphrase finds it with the right app and title."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.xenv import open_text_window
from tests.support import assert_secret_absent, run_cli, scan_files_for

pytestmark = pytest.mark.integration

PHRASE = (
    "The migratory pelicans of Lake Titicaca gather every November before flying north to the Andes"
)
TITLE = "Field notes — pelican survey 7731"
SECRET = "QWV-7Z-aubergine-90210-kestrel"


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def test_capture_once_then_search_paraphrase(xdisplay, tmp_path):
    home = tmp_path / "home"
    assert run_cli(home, "init").code == 0
    with open_text_window(PHRASE + "\n\nreference " + SECRET, TITLE) as proc:
        app_name = _comm(proc.pid)
        res = run_cli(
            home, "capture", "--once", "--json", passphrase=None, env={"DISPLAY": xdisplay}
        )
        assert res.code == 0, res.err
        first = res.json()
        assert len(first["stored"]) == first["monitors"] >= 1
        # The same screen again: skipped as unchanged, nothing new stored.
        again = run_cli(
            home, "capture", "--once", "--json", passphrase=None, env={"DISPLAY": xdisplay}
        ).json()
        assert again["stored"] == [] and again["skipped"] == {"unchanged": first["monitors"]}
    res = run_cli(home, "search", "birds on a lake in South America", "--json")
    assert res.code == 0, res.err
    hits = res.json()
    assert hits, "no results"
    top = hits[0]
    assert top["id"] == first["stored"][0]
    assert top["title"] == TITLE
    assert top["app"] == app_name
    assert "pelican" in top["snippet"].lower()
    stats = run_cli(home, "stats", "--json").json()
    assert stats["memories"] == first["monitors"]
    assert stats["skipped"] == {"unchanged": first["monitors"]}
    # Planted secret (SECURITY.md T1): it was captured (searchable) but is nowhere in plaintext.
    found = run_cli(home, "search", SECRET, "--json").json()
    assert any(SECRET.lower() in h["snippet"].lower() for h in found)
    assert_secret_absent(home, SECRET)
    assert_secret_absent(home, "pelican survey 7731")
    assert scan_files_for(tmp_path / "tmp", SECRET) == []
