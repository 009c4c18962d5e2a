"""Where bundled, read-only resources live (works from a checkout and a PyInstaller bundle)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def assets_dir() -> Path:
    override = os.environ.get("AFTERIMAGE_ASSETS")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (model files checked before loading)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
