"""The user's privacy policy at rest and in transit, never in plaintext (SECURITY.md R1).

At rest: ``vault/state/privacy-policy.sealed``, sealed to the vault's capture public key
(X25519 + HKDF-SHA256 + AES-256-GCM, the same construction as data keys). Anyone running as
the user can *write* it (only the public key is needed) but only an unlocked vault can read
it. The capture service runs locked, so it cannot read it either.

In transit to the service: at start the service makes an ephemeral X25519 key pair that lives
only in its memory and publishes the public half in its status file. A client that has the
vault unlocked (the GUI at unlock, ``afterimage privacy ...``) opens the policy and re-seals it
to that key in ``run/policy-handoff.sealed``; the service opens it, deletes the file and keeps
the policy in memory. A restarted service has a new key and waits for a new handoff.

Format: ``b"AIPS1" || ephemeral public key (32) || nonce (12) || AES-GCM ciphertext+tag``;
associated data = label || context (vault id, or the service's pid and key).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import VaultCorrupt

_MAGIC = b"AIPS1"
_POLICY_LABEL = b"afterimage/privacy-policy/v1"
_HANDOFF_LABEL = b"afterimage/policy-handoff/v1"
POLICY_FILE = "privacy-policy.sealed"
HANDOFF_FILE = "policy-handoff.sealed"

Exchange = Callable[[bytes], bytes]  # peer public key -> X25519 shared secret


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key(shared: bytes, eph_pub: bytes, recipient_pub: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + recipient_pub,
                info=label).derive(shared)


def seal_to(recipient_pub: bytes, label: bytes, context: bytes, plaintext: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    eph_pub = _raw_public(ephemeral.public_key())
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_pub))
    nonce = os.urandom(12)
    ct = AESGCM(_key(shared, eph_pub, recipient_pub, label)).encrypt(
        nonce, plaintext, label + context)
    return _MAGIC + eph_pub + nonce + ct


def open_with(exchange: Exchange, recipient_pub: bytes, label: bytes, context: bytes,
              sealed: bytes) -> bytes:
    if len(sealed) < len(_MAGIC) + 32 + 12 + 16 or not sealed.startswith(_MAGIC):
        raise VaultCorrupt("a sealed policy file is truncated or not ours")
    body = sealed[len(_MAGIC):]
    eph_pub, nonce, ct = body[:32], body[32:44], body[44:]
    try:
        shared = exchange(eph_pub)
        return AESGCM(_key(shared, eph_pub, recipient_pub, label)).decrypt(
            nonce, ct, label + context)
    except (InvalidTag, ValueError) as exc:
        raise VaultCorrupt("a sealed policy file failed authentication") from exc


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# -- at rest -----------------------------------------------------------------------------------
def write_policy(state_dir: Path, vault_id: str, capture_pub: bytes, policy_json: bytes) -> None:
    _atomic_write(state_dir / POLICY_FILE,
                  seal_to(capture_pub, _POLICY_LABEL, bytes.fromhex(vault_id), policy_json))


def read_policy(state_dir: Path, vault_id: str, capture_pub: bytes,
                exchange: Exchange) -> bytes | None:
    try:
        sealed = (state_dir / POLICY_FILE).read_bytes()
    except FileNotFoundError:
        return None
    return open_with(exchange, capture_pub, _POLICY_LABEL, bytes.fromhex(vault_id), sealed)


def policy_exists(state_dir: Path) -> bool:
    return (state_dir / POLICY_FILE).exists()


# -- handoff to the running service ------------------------------------------------------------
class HandoffKey:
    """The service's in-memory key pair for receiving the policy."""

    def __init__(self) -> None:
        self._private = X25519PrivateKey.generate()
        self.public = _raw_public(self._private.public_key())

    def receive(self, run_dir: Path, pid: int) -> bytes | None:
        """The handed-over policy JSON, or None; the file is deleted either way."""
        path = run_dir / HANDOFF_FILE
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            return None
        finally:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        return open_with(lambda peer: self._private.exchange(
            X25519PublicKey.from_public_bytes(peer)), self.public, _HANDOFF_LABEL,
            _handoff_context(pid, self.public), sealed)


def _handoff_context(pid: int, service_pub: bytes) -> bytes:
    return pid.to_bytes(8, "big") + service_pub


def hand_over(run_dir: Path, pid: int, service_pub: bytes, policy_json: bytes) -> None:
    _atomic_write(run_dir / HANDOFF_FILE,
                  seal_to(service_pub, _HANDOFF_LABEL, _handoff_context(pid, service_pub),
                          policy_json))
