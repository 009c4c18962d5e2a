"""Argon2id parameters: policy defaults and tuning (R2, T2)."""

from __future__ import annotations

import os
import time

import pytest

from core.errors import InvalidInput
from core.vault import KdfParams


@pytest.mark.slow
def test_tuned_defaults_meet_policy() -> None:
    params = KdfParams.tuned()
    assert len(params.salt) == 16
    assert params.memory_kib >= 256 * 1024
    assert params.iterations >= 3
    assert params.lanes == 4
    started = time.perf_counter()
    kek = params.derive("a passphrase")
    assert time.perf_counter() - started >= 0.5
    assert len(kek) == 32
    assert KdfParams.tuned(memory_mib=8, iterations=1, min_seconds=0).salt != params.salt


def test_tuning_raises_iterations_until_slow_enough() -> None:
    base = KdfParams(salt=os.urandom(16), memory_kib=8 * 1024, iterations=1)
    started = time.perf_counter()
    base.derive("x")
    one_pass = time.perf_counter() - started
    target = max(0.15, one_pass * 3)
    tuned = KdfParams.tuned(memory_mib=8, iterations=1, min_seconds=target)
    assert tuned.iterations > 1
    assert tuned.memory_kib == 8 * 1024
    started = time.perf_counter()
    tuned.derive("x")
    assert time.perf_counter() - started >= target * 0.7  # allow for timing noise


def test_derive_is_deterministic_and_salted() -> None:
    salt = os.urandom(16)
    a = KdfParams(salt=salt, memory_kib=8192, iterations=1)
    assert a.derive("pass") == a.derive("pass")
    assert len(a.derive("pass")) == 32
    assert a.derive("pass") != a.derive("pasS")
    assert KdfParams(salt=os.urandom(16), memory_kib=8192, iterations=1).derive("pass") != (
        a.derive("pass")
    )
    # Composed and decomposed "é" are the same passphrase.
    assert a.derive("caf\u00e9") == a.derive("cafe\u0301")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"salt": b"short"},
        {"salt": bytes(16), "iterations": 0},
        {"salt": bytes(16), "lanes": 0},
        {"salt": bytes(16), "memory_kib": 16, "lanes": 4},
        {"salt": bytes(16), "memory_kib": 2**40},
    ],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        KdfParams(**kwargs)  # type: ignore[arg-type]
