"""`afterimage consolidate`: captions made on demand, resumable, visible in search."""

from __future__ import annotations

import pytest

from tests.support import render_text_png, run_cli

pytestmark = pytest.mark.integration


def test_consolidate_captions_newest_first_and_resumes(tmp_path):
    home = tmp_path / "home"
    shots = tmp_path / "shots"
    shots.mkdir()
    render_text_png(shots / "2024-05-01_09-00-00.png",
                    ["Invoice 4471 from Nordic Timber", "Total due: 12,400 EUR"])
    render_text_png(shots / "2024-05-01_10-00-00.png",
                    ["Release notes for version 3.2", "Fixed the crash on startup"])
    assert run_cli(home, "init").code == 0
    assert run_cli(home, "import", str(shots)).code == 0

    pending = run_cli(home, "consolidate", "--pending", "--json")
    assert pending.code == 0, pending.err
    assert pending.json() == {"pending": 2}

    first = run_cli(home, "consolidate", "--max", "1", "--force", "--json", timeout=300)
    assert first.code == 0, first.err
    out = first.json()
    assert out["captioned"] == 1 and out["remaining"] == 1 and out["failed"] == 0

    hits = {h["title"] or h["source"]: h for h in run_cli(
        home, "search", "release notes crash startup", "--json").json()}
    newest = next(h for h in hits.values() if "10-00-00" in (h["source"] or ""))
    assert newest["caption"], "the newest memory is captioned first"

    second = run_cli(home, "consolidate", "--force", "--json", timeout=300).json()
    assert second["captioned"] == 1 and second["remaining"] == 0
    assert run_cli(home, "consolidate", "--pending", "--json").json() == {"pending": 0}

    bad = run_cli(home, "consolidate", "--max", "0")
    assert bad.code == 2 and "--max" in bad.err
