"""`--version`, `--help` and usage errors answer without loading the heavy runtime.

The bundled app (and every shell completion or `afterimage --version` a user or a package
manager runs) pays for each import: numpy, pyarrow, lancedb, onnxruntime, OpenCV, Qt and the
LLM runtime are loaded only when a command actually opens the vault or the GUI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import REPO

HEAVY = ("numpy", "pyarrow", "lancedb", "onnxruntime", "cv2", "rapidocr", "PySide6", "PIL",
         "llama_cpp", "tokenizers", "core.memory", "core.store", "core.capture.pipeline")

_PROBE = """
import contextlib, io, json, sys
from app.cli import main
out, err = io.StringIO(), io.StringIO()
code = None
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                   "heavy": heavy}}))
"""


def _probe(*args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERIMAGE_")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_version_imports_nothing_heavy() -> None:
    from app import __version__

    result = _probe("--version")
    assert result["code"] == 0
    assert result["stdout"] == f"afterimage {__version__}\n"
    assert result["heavy"] == []


@pytest.mark.parametrize("args", [("--help",), ("search", "--help"), ("ask", "--help"),
                                  ("capture", "--help")])
def test_help_imports_nothing_heavy(args: tuple[str, ...]) -> None:
    result = _probe(*args)
    assert result["code"] == 0
    assert "usage: afterimage" in str(result["stdout"])
    assert result["heavy"] == []


@pytest.mark.parametrize("args", [("no-such-command",), ("search",),
                                  ("search", "x", "--limit", "many")])
def test_usage_errors_import_nothing_heavy(args: tuple[str, ...]) -> None:
    result = _probe(*args)
    assert result["code"] == 2
    assert "error:" in str(result["stderr"])
    assert result["heavy"] == []
