"""Field encryption: AES-256-GCM envelopes bound to table, column, row and key (R3).

Envelope bytes::

    version (1, 0x01) || key_id (16 raw bytes) || nonce (12) || ciphertext+tag

The plaintext is framed and padded before encryption so only a coarse length leaks::

    length (4, big-endian) || data || zero bytes up to padded_size(len(data))

Associated data::

    b"afterimage/field/v1" || lp(table) || lp(column) || lp(row_id) || lp(key_id raw)

where ``lp(x)`` is a 4-byte big-endian length followed by ``x`` (strings as UTF-8).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import DecryptionFailed, InvalidInput

ENVELOPE_VERSION = 1
KEY_ID_BYTES = 16
DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
MIN_PADDED = 64
_LENGTH_PREFIX = 4
MAX_PLAINTEXT = 2**31 - 1 - 2**20  # below the 2**31 AES-GCM limit of `cryptography`
MAX_BUCKET = 2**63 - 1
_FIELD_AD_LABEL = b"afterimage/field/v1"
_KEY_ID_RE = re.compile(r"[0-9a-f]{32}")


def is_key_id(value: object) -> bool:
    """True for a well-formed key id: 32 lowercase hex characters."""
    return isinstance(value, str) and _KEY_ID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class DataKey:
    """A random per-(hour bucket, writer process) data key. ``key`` never shows in repr."""

    key_id: str
    bucket: int
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not is_key_id(self.key_id):
            raise InvalidInput("key_id must be 32 lowercase hex characters")
        if isinstance(self.bucket, bool) or not isinstance(self.bucket, int) or not (
            0 <= self.bucket <= MAX_BUCKET
        ):
            raise InvalidInput("bucket must be a non-negative hour number")
        if not isinstance(self.key, bytes) or len(self.key) != DATA_KEY_BYTES:
            raise InvalidInput(f"a data key is {DATA_KEY_BYTES} bytes")

    @classmethod
    def generate(cls, bucket: int) -> DataKey:
        """A fresh random key (never derived from the master key)."""
        return cls(key_id=os.urandom(KEY_ID_BYTES).hex(), bucket=bucket,
                   key=os.urandom(DATA_KEY_BYTES))


@dataclass(frozen=True)
class FieldRef:
    """Where a ciphertext lives; bound to it as AES-GCM associated data."""

    table: str
    column: str
    row_id: str


def padded_size(length: int) -> int:
    """Size of the framed plaintext (4-byte length + data + padding), Padmé, >= 64 bytes.

    Padmé (Nikitin et al., PETS 2019) rounds up to a number whose low bits are zero,
    keeping at most O(log log n) bits of the length; overhead is at most ~12%.
    """
    if length < 0:
        raise InvalidInput("length must be >= 0")
    framed = max(length + _LENGTH_PREFIX, MIN_PADDED)
    exponent = framed.bit_length() - 1  # floor(log2(framed))
    size_bits = exponent.bit_length()  # floor(log2(exponent)) + 1
    mask = (1 << (exponent - size_bits)) - 1
    return (framed + mask) & ~mask


def _lp(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _field_ad(ref: FieldRef, key_id_raw: bytes) -> bytes:
    try:
        parts = [s.encode("utf-8", "surrogatepass") for s in (ref.table, ref.column, ref.row_id)]
    except AttributeError as exc:
        raise InvalidInput("FieldRef fields must be strings") from exc
    return _FIELD_AD_LABEL + b"".join(_lp(p) for p in parts) + _lp(key_id_raw)


def seal_field(key: DataKey, plaintext: bytes, ref: FieldRef) -> bytes:
    """Encrypt ``plaintext`` for the cell ``ref`` with ``key`` (fresh random nonce)."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise InvalidInput("field too large to encrypt")
    size = padded_size(len(plaintext))
    framed = bytearray(size)
    framed[0:_LENGTH_PREFIX] = struct.pack(">I", len(plaintext))
    framed[_LENGTH_PREFIX:_LENGTH_PREFIX + len(plaintext)] = plaintext
    key_id_raw = bytes.fromhex(key.key_id)
    nonce = os.urandom(NONCE_BYTES)
    ct = AESGCM(key.key).encrypt(nonce, bytes(framed), _field_ad(ref, key_id_raw))
    return bytes([ENVELOPE_VERSION]) + key_id_raw + nonce + ct


def key_id_of(blob: bytes) -> str:
    """The key id in an envelope's header, without decrypting. DecryptionFailed if malformed."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise DecryptionFailed("envelope is not bytes")
    data = bytes(blob)
    if len(data) < HEADER_BYTES + TAG_BYTES:
        raise DecryptionFailed("envelope is truncated")
    if data[0] != ENVELOPE_VERSION:
        raise DecryptionFailed(f"unknown envelope version {data[0]}")
    return data[1:1 + KEY_ID_BYTES].hex()


def open_field(key: DataKey, blob: bytes, ref: FieldRef) -> bytes:
    """Decrypt an envelope made by seal_field for the same ``ref``.

    Raises DecryptionFailed (and nothing else) for a wrong key, a moved or modified
    ciphertext, or bytes that are not an envelope.
    """
    key_id = key_id_of(blob)
    if key_id != key.key_id:
        raise DecryptionFailed(f"envelope uses key {key_id}, not {key.key_id}")
    data = bytes(blob)
    nonce = data[1 + KEY_ID_BYTES:HEADER_BYTES]
    try:
        framed = AESGCM(key.key).decrypt(
            nonce, data[HEADER_BYTES:], _field_ad(ref, data[1:1 + KEY_ID_BYTES])
        )
    except InvalidTag as exc:
        raise DecryptionFailed(
            f"ciphertext for {ref.table}.{ref.column} failed authentication"
        ) from exc
    if len(framed) < _LENGTH_PREFIX:
        raise DecryptionFailed("decrypted field is malformed")
    (length,) = struct.unpack(">I", framed[:_LENGTH_PREFIX])
    end = _LENGTH_PREFIX + length
    padding = framed[end:]
    if end > len(framed) or len(framed) != padded_size(length) or padding.count(0) != len(padding):
        raise DecryptionFailed("decrypted field has bad framing")
    return framed[_LENGTH_PREFIX:end]
