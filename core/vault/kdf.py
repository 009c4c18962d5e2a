"""Passphrase -> key-encryption key with Argon2id (SECURITY.md R2)."""

from __future__ import annotations

import os
import time
import unicodedata
from dataclasses import dataclass

from core.errors import InvalidInput

SALT_BYTES = 16
KEK_BYTES = 32

# Policy (SECURITY.md R2): about 256 MiB, t=3, tuned to >= 0.5 s on this machine.
DEFAULT_MEMORY_KIB = 256 * 1024
DEFAULT_ITERATIONS = 3
DEFAULT_LANES = 4
DEFAULT_MIN_SECONDS = 0.5

# Sanity bounds. A header with values outside them is refused as corrupt instead of
# letting a tampered file ask for terabytes of memory or hours of work.
MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
MAX_ITERATIONS = 100
MAX_LANES = 64

_TUNE_PASSPHRASE = "afterimage kdf calibration"
_TUNE_MARGIN = 1.1  # calibrate 10% above the floor so a later derivation stays above it


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters and salt. Stored in the clear in the vault header."""

    salt: bytes
    memory_kib: int = DEFAULT_MEMORY_KIB
    iterations: int = DEFAULT_ITERATIONS
    lanes: int = DEFAULT_LANES

    def __post_init__(self) -> None:
        problem = kdf_params_problem(self.salt, self.memory_kib, self.iterations, self.lanes)
        if problem:
            raise InvalidInput(f"invalid Argon2id parameters: {problem}")

    @classmethod
    def tuned(
        cls,
        *,
        memory_mib: int = DEFAULT_MEMORY_KIB // 1024,
        iterations: int = DEFAULT_ITERATIONS,
        lanes: int = DEFAULT_LANES,
        min_seconds: float = DEFAULT_MIN_SECONDS,
    ) -> KdfParams:
        """Fresh salt; raises ``iterations`` until one derivation takes >= ``min_seconds``.

        Calibrates against ``min_seconds`` plus a 10% margin for timing noise, each step
        timed as the faster of two derivations (the first one in a process also pays for
        faulting in its memory, and a busy moment only ever makes one slower: a single timing
        once tuned to 0.55 s parameters that later derived in 0.44 s); memory and lanes are
        never lowered. Takes a few derivations (seconds with the defaults).
        """
        params = cls(
            salt=os.urandom(SALT_BYTES),
            memory_kib=memory_mib * 1024,
            iterations=iterations,
            lanes=lanes,
        )
        while params.iterations < MAX_ITERATIONS:
            elapsed = min(_timed_derivation(params) for _ in range(2))
            target = min_seconds * _TUNE_MARGIN
            if elapsed >= target:
                break
            # Scale up from the measurement (+10%), at least one more pass.
            guess = int(params.iterations * target * 1.1 / max(elapsed, 1e-6)) + 1
            more = min(MAX_ITERATIONS, max(params.iterations + 1, guess))
            params = cls(salt=params.salt, memory_kib=params.memory_kib,
                         iterations=more, lanes=params.lanes)
        return params

    def derive(self, passphrase: str) -> bytes:
        """The 32-byte key-encryption key for ``passphrase`` (NFC-normalised UTF-8)."""
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        secret = unicodedata.normalize("NFC", passphrase).encode("utf-8", "surrogatepass")
        try:
            return Argon2id(
                salt=self.salt,
                length=KEK_BYTES,
                iterations=self.iterations,
                lanes=self.lanes,
                memory_cost=self.memory_kib,
            ).derive(secret)
        except MemoryError as exc:
            raise InvalidInput(
                f"not enough memory for Argon2id ({self.memory_kib} KiB)"
            ) from exc


def kdf_params_problem(salt: object, memory_kib: object, iterations: object,
                       lanes: object) -> str | None:
    """Why these values are not acceptable Argon2id parameters, or None if they are."""
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        return f"salt must be {SALT_BYTES} bytes"
    for name, value, high in (
        ("iterations", iterations, MAX_ITERATIONS),
        ("lanes", lanes, MAX_LANES),
        ("memory_kib", memory_kib, MAX_MEMORY_KIB),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            return f"{name} must be an integer in 1..{high}"
    assert isinstance(memory_kib, int) and isinstance(lanes, int)
    if memory_kib < 8 * lanes:
        return "memory_kib must be at least 8 * lanes"
    return None


def _timed_derivation(params: KdfParams) -> float:
    started = time.perf_counter()
    params.derive(_TUNE_PASSPHRASE)
    return time.perf_counter() - started
