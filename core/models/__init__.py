"""The model manager: a curated catalog, user-started downloads and the installed models.

Model files are not user content; they live in plaintext in ``<data>/models/``.
"""

from __future__ import annotations

from core.models.catalog import CATALOG, CatalogEntry, CatalogFile, find_entry
from core.models.installed import (
    DEFAULT_CHAT_MODEL,
    InstalledModels,
    ModelStatus,
    resolve_chat_model,
)

__all__ = [
    "CATALOG",
    "DEFAULT_CHAT_MODEL",
    "CatalogEntry",
    "CatalogFile",
    "InstalledModels",
    "ModelStatus",
    "find_entry",
    "resolve_chat_model",
]
