"""The CLI never loads pylance (`lance`): it is a test-only tool, left out of the bundle.

A stand-in `lance` package that records its import sits first on the path of every CLI run:
init, import, capture --once, search, forget (which shreds deletions), maintain, stats.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import render_text_png, run_cli

pytestmark = pytest.mark.integration


def test_cli_never_imports_lance(tmp_path: Path, xdisplay: str) -> None:
    blocker = tmp_path / "blocker"
    marker = tmp_path / "lance-was-imported"
    (blocker / "lance").mkdir(parents=True)
    (blocker / "lance" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'a').close()\n"
        "raise ImportError('pylance must not load at runtime')\n")
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    env = {"PYTHONPATH": path, "DISPLAY": xdisplay}
    home = tmp_path / "home"
    shots = tmp_path / "shots"
    shots.mkdir()
    for minute in (10, 40):
        shot = shots / f"2024-02-05_09-{minute}-00.png"
        render_text_png(shot, [f"train tickets to Porto {minute}"], size=(480, 120),
                        font_size=28)
        shot.with_suffix(".json").write_text(json.dumps({"app": "Firefox"}))

    def cli(*args: str, **kw: object):
        res = run_cli(home, *args, env=env, **kw)  # type: ignore[arg-type]
        assert res.code == 0, (args, res.err)
        assert not marker.exists(), f"`afterimage {' '.join(args)}` imported lance"
        return res

    cli("init")
    cli("import", str(shots), "--json")
    cli("capture", "--once", "--json")
    hits = cli("search", "train tickets", "--json").json()
    assert hits
    cli("forget", "--id", hits[0]["id"], "--yes", "--json")
    cli("forget", "--since", "2024-02-05T09:00", "--until", "2024-02-05T10:00", "--yes",
        "--json", passphrase=None)
    cli("maintain", "--json")
    cli("stats", "--json", passphrase=None)
