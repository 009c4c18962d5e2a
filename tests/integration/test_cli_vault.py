"""`afterimage passwd`, `maintain` and the new `stats` keys through the real CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support import run_cli

pytestmark = pytest.mark.integration

NEW = "a brand new passphrase"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_passwd_maintain_and_stats(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "init").code == 0
    keys_before = _sha(home / "vault" / "keys.db")

    res = run_cli(home, "passwd", "--json", env={"AFTERIMAGE_NEW_PASSPHRASE": "short"})
    assert res.code == 2 and "at least 8" in res.err
    res = run_cli(home, "passwd", "--json", passphrase="wrong passphrase",
                  env={"AFTERIMAGE_NEW_PASSPHRASE": NEW})
    assert res.code == 3
    res = run_cli(home, "passwd", "--json", env={"AFTERIMAGE_NEW_PASSPHRASE": NEW})
    assert res.code == 0 and res.json() == {"changed": True}, res.err
    assert _sha(home / "vault" / "keys.db") == keys_before  # only the master key re-wrapped

    probe = ("forget", "--since", "1h", "--dry-run", "--json")
    assert run_cli(home, *probe).code == 3  # the old passphrase no longer unlocks
    res = run_cli(home, *probe, passphrase=NEW)
    assert res.code == 0 and res.json()["memories"] == 0, res.err

    res = run_cli(home, "maintain", "--json", passphrase=None)
    assert res.code == 0, res.err
    out = res.json()
    assert out["memories_forgotten"] == 0 and out["over_budget"] is False
    assert set(out) >= {"forgotten_hours_age", "hours_to_thumbnail", "hours_to_text",
                        "bytes_before", "bytes_after"}
    stats = run_cli(home, "stats", "--json", passphrase=None).json()
    assert stats["bytes_by_tier"] == {"full": 0, "thumbnail": 0, "text": 0}
    assert stats["budget_bytes"] == 10_240 * 2**20
    assert stats["daily_growth_bytes"] is None and stats["days_until_budget"] is None
    human = run_cli(home, "stats", passphrase=None)
    assert human.code == 0 and "Budget:" in human.out
