"""Where bundled, read-only resources live (works from a checkout and a PyInstaller bundle)."""

from __future__ import annotations

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
