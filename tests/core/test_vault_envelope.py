"""Field envelopes: binding to table/column/row/key, padding, fuzzing (R3, T2, T8)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DecryptionFailed, InvalidInput
from core.vault import DataKey, FieldRef, key_id_of, open_field, padded_size, seal_field

REF = FieldRef("memories", "ocr_text", "0190a1b2-row")
OVERHEAD = 1 + 16 + 12 + 16


@pytest.fixture(scope="module")
def key() -> DataKey:
    return DataKey.generate(482_000)


def test_round_trip_and_layout(key: DataKey) -> None:
    blob = seal_field(key, b"card 4111 1111 1111 1111", REF)
    assert blob[0] == 1
    assert blob[1:17] == bytes.fromhex(key.key_id)
    assert key_id_of(blob) == key.key_id
    assert len(blob) == OVERHEAD + padded_size(24)
    assert open_field(key, blob, REF) == b"card 4111 1111 1111 1111"
    assert open_field(key, seal_field(key, b"", REF), REF) == b""


def test_fresh_nonce_per_message(key: DataKey) -> None:
    a, b = seal_field(key, b"same", REF), seal_field(key, b"same", REF)
    assert a[17:29] != b[17:29]
    assert a != b


def test_every_flipped_byte_fails(key: DataKey) -> None:
    blob = seal_field(key, b"hello world", REF)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            bad = bytearray(blob)
            bad[i] ^= bit
            with pytest.raises(DecryptionFailed):
                open_field(key, bytes(bad), REF)


@pytest.mark.parametrize(
    "moved",
    [
        FieldRef("memories", "ocr_text", "another-row"),
        FieldRef("memories", "window_title", REF.row_id),
        FieldRef("chat", REF.column, REF.row_id),
        # Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        FieldRef("memoriesocr_text", "", REF.row_id),
    ],
)
def test_ciphertext_moved_to_another_cell_fails(key: DataKey, moved: FieldRef) -> None:
    blob = seal_field(key, b"secret", REF)
    with pytest.raises(DecryptionFailed):
        open_field(key, blob, moved)


def test_wrong_key_fails(key: DataKey) -> None:
    blob = seal_field(key, b"secret", REF)
    with pytest.raises(DecryptionFailed):
        open_field(DataKey.generate(key.bucket), blob, REF)
    same_id_other_bytes = DataKey(key.key_id, key.bucket, bytes(32))
    with pytest.raises(DecryptionFailed):
        open_field(same_id_other_bytes, blob, REF)


def test_truncated_envelopes_fail(key: DataKey) -> None:
    blob = seal_field(key, b"x" * 100, REF)
    for n in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            open_field(key, blob[:n], REF)
    with pytest.raises(DecryptionFailed):
        open_field(key, blob + b"\x00", REF)


def test_key_id_of_rejects_non_envelopes() -> None:
    with pytest.raises(DecryptionFailed):
        key_id_of(b"\x01short")
    with pytest.raises(DecryptionFailed):
        key_id_of(b"\x02" + bytes(60))


def test_padding_hides_exact_length(key: DataKey) -> None:
    sizes = {len(seal_field(key, b"a" * n, REF)) for n in range(0, 61)}
    assert sizes == {OVERHEAD + 64}
    assert padded_size(1000) == padded_size(1001)
    assert padded_size(10**6) <= (10**6 + 4) * 1.12


def test_padded_size_is_monotone_and_fits() -> None:
    previous = 0
    for n in range(0, 70_000, 7):
        size = padded_size(n)
        assert size >= n + 4 and size >= 64
        assert size >= previous
        previous = size
    with pytest.raises(InvalidInput):
        padded_size(-1)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=0, max_value=2**20))
def test_padded_size_property(n: int, extra: int) -> None:
    assert padded_size(n) >= n + 4
    assert padded_size(n + extra) >= padded_size(n)


def test_data_key_validation() -> None:
    with pytest.raises(InvalidInput):
        DataKey("ABC", 1, bytes(32))
    with pytest.raises(InvalidInput):
        DataKey("0" * 32, -1, bytes(32))
    with pytest.raises(InvalidInput):
        DataKey("0" * 32, 1, bytes(16))


refs = st.builds(FieldRef, st.text(max_size=20), st.text(max_size=20), st.text(max_size=40))


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=5000), ref=refs)
def test_seal_open_round_trip_property(key: DataKey, plaintext: bytes, ref: FieldRef) -> None:
    blob = seal_field(key, plaintext, ref)
    assert len(blob) == OVERHEAD + padded_size(len(plaintext))
    assert open_field(key, blob, ref) == plaintext


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), ref=refs)
def test_open_field_on_arbitrary_bytes_raises_only_decryption_failed(
    key: DataKey, data: bytes, ref: FieldRef
) -> None:
    with pytest.raises(DecryptionFailed):
        open_field(key, data, ref)
    # Also with a well-formed header, so the bytes reach AES-GCM.
    with pytest.raises(DecryptionFailed):
        open_field(key, b"\x01" + bytes.fromhex(key.key_id) + data, ref)
