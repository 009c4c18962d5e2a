"""Afterimage's encryption layer: key hierarchy, key store and field envelopes.

See ``docs/security-vault.md``. Public API::

    Vault, KdfParams, DataKey, FieldRef, seal_field, open_field, key_id_of
"""

from __future__ import annotations

from .envelope import DataKey, FieldRef, key_id_of, open_field, padded_size, seal_field
from .kdf import KdfParams
from .vault import Vault

__all__ = [
    "DataKey",
    "FieldRef",
    "KdfParams",
    "Vault",
    "key_id_of",
    "open_field",
    "padded_size",
    "seal_field",
]
