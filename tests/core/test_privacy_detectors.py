"""Sensitive-text detectors on text: every generated secret is found, ordinary text is not."""

from __future__ import annotations

import pytest

from core.privacy.detectors import DETECTOR_KINDS, find_sensitive, iban_valid, luhn_valid
from tests.privacy_samples import ordinary_text_samples, sensitive_text_samples


def test_luhn_and_iban_checksums():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("DE89 3704 0044 0532 0130 01")  # check digits wrong
    assert not iban_valid("DE89 3704 0044 0532 0130")  # wrong length for DE


@pytest.mark.parametrize("sample", sensitive_text_samples(), ids=lambda s: s.kind)
def test_every_sensitive_sample_is_found_with_its_kind(sample):
    text = "\n".join(sample.lines)
    matches = find_sensitive(text)
    kinds = {m.kind for m in matches}
    assert sample.kind in kinds
    start = text.index(sample.secret)
    covered = [m for m in matches if m.start <= start and m.end >= start + len(sample.secret)]
    assert covered, "the match must cover the whole secret"


def test_ordinary_text_is_not_flagged():
    flagged = [s for s in ordinary_text_samples() if find_sensitive("\n".join(s.lines))]
    assert flagged == []


def test_card_needs_a_network_prefix_and_consistent_grouping():
    assert find_sensitive("Order 8000 0000 0000 0009") == []  # Luhn-valid, no network
    assert find_sensitive("4111 1111-1111 1111") == []  # mixed separators
    assert [m.kind for m in find_sensitive("card 4111-1111-1111-1111 ok")] == ["payment_card"]


def test_a_card_is_found_when_ocr_dropped_the_space_beside_it():
    # OCR reads "card 4539 ..." as "card4539 ..." now and then; the number is still a card
    for text in ("Paid with card4539 1488 0343 6467", "4539 1488 0343 6467Thanks",
                 "no.4539148803436467x"):
        found = [(m.kind, text[m.start:m.end].replace(" ", "")) for m in find_sensitive(text)]
        assert ("payment_card", "4539148803436467") in found, text
    assert find_sensitive("id 45391488034364671") == []  # 17 digits, Luhn-invalid
    assert find_sensitive("ref 4539148803436467000000") == []  # 22 digits: not a card


def test_jwt_requires_a_json_header_and_git_hash_is_not_aws_secret():
    assert find_sensitive("eyJub3QtanNvbiB.abcdefghijk.lmnopqrstuvw") == []
    assert find_sensitive("aws_secret_access_key = " + "a1" * 20) == []


def test_pem_block_without_end_runs_to_the_end():
    text = "notes\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA"
    (m,) = find_sensitive(text)
    assert m.kind == "private_key" and m.end == len(text)


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        find_sensitive("x", ["nope"])
    assert len(DETECTOR_KINDS) >= 12


def test_detectors_tolerate_common_ocr_confusions_of_fixed_prefixes():
    assert [m.kind for m in find_sensitive("key AlzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")] == \
        ["google_api_key"]
    assert [m.kind for m in find_sensitive("AKlAIOSFODNN7EXAMPLE")] == ["aws_access_key"]
