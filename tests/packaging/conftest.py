"""Load the packaging helpers by path (packaging/ is deliberately not a Python package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_module(relpath: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / relpath)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def metadata() -> ModuleType:
    return load_module("packaging/metadata.py", "afterimage_packaging_metadata")


@pytest.fixture(scope="session")
def meta(metadata: ModuleType):  # type: ignore[no-untyped-def]
    return metadata.load()
