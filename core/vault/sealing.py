"""Data keys sealed to the capture public key: X25519 + HKDF-SHA256 + AES-256-GCM (R2).

Sealed bytes (92)::

    ephemeral X25519 public key (32) || nonce (12) || AES-GCM(data key) ciphertext+tag (48)

Wrapping key = HKDF-SHA256(shared secret, salt = eph_pub || capture_pub,
info = b"afterimage/data-key/v1" || key_id (16 raw) || bucket (8, big-endian)).
Associated data = vault_id (16 raw) || key_id (16 raw) || bucket (8, big-endian).

Sealing needs only the public key, so a locked capture service can make new keys;
opening needs the capture private key, which only an unlocked vault holds.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import VaultCorrupt

from .envelope import DATA_KEY_BYTES, NONCE_BYTES, TAG_BYTES, DataKey

PUBLIC_KEY_BYTES = 32
SEALED_BYTES = PUBLIC_KEY_BYTES + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES
_INFO_LABEL = b"afterimage/data-key/v1"
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw


def public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, _RAW_PUB)


def _wrapping_key(shared: bytes, eph_pub: bytes, capture_pub: bytes, key_id: str,
                  bucket: int) -> bytes:
    info = _INFO_LABEL + bytes.fromhex(key_id) + struct.pack(">Q", bucket)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + capture_pub,
                info=info).derive(shared)


def _ad(vault_id: str, key_id: str, bucket: int) -> bytes:
    return bytes.fromhex(vault_id) + bytes.fromhex(key_id) + struct.pack(">Q", bucket)


def seal_data_key(vault_id: str, capture_pub: bytes, key: DataKey) -> bytes:
    """Seal ``key`` so that only the holder of the capture private key can open it."""
    recipient = X25519PublicKey.from_public_bytes(capture_pub)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = public_bytes(ephemeral.public_key())
    wrapping = _wrapping_key(ephemeral.exchange(recipient), eph_pub, capture_pub,
                             key.key_id, key.bucket)
    nonce = os.urandom(NONCE_BYTES)
    ct = AESGCM(wrapping).encrypt(nonce, key.key, _ad(vault_id, key.key_id, key.bucket))
    return eph_pub + nonce + ct


def open_data_key(vault_id: str, capture_private: X25519PrivateKey, key_id: str, bucket: int,
                  sealed: bytes) -> DataKey:
    """Open a sealed data key; VaultCorrupt if it fails authentication."""
    problem = f"data key {key_id} in keys.db cannot be opened"
    if len(sealed) != SEALED_BYTES:
        raise VaultCorrupt(f"{problem}: wrong length")
    eph_pub = sealed[:PUBLIC_KEY_BYTES]
    nonce = sealed[PUBLIC_KEY_BYTES:PUBLIC_KEY_BYTES + NONCE_BYTES]
    capture_pub = public_bytes(capture_private.public_key())
    try:
        shared = capture_private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        wrapping = _wrapping_key(shared, eph_pub, capture_pub, key_id, bucket)
        raw = AESGCM(wrapping).decrypt(nonce, sealed[PUBLIC_KEY_BYTES + NONCE_BYTES:],
                                       _ad(vault_id, key_id, bucket))
    except (InvalidTag, ValueError) as exc:
        raise VaultCorrupt(f"{problem}: authentication failed") from exc
    return DataKey(key_id=key_id, bucket=bucket, key=raw)
