"""Sensitive-text detectors run on OCR text before anything is stored (SECURITY.md R10).

Each detector finds spans ``(start, end)`` in a text and confirms them with a checksum or
a structural check where one exists (Luhn for cards, ISO 13616 mod-97 for IBANs, a JSON
header for JWTs), so that ordinary numbers and words are not flagged. Detectors never log
or return more than the kind and the span: callers redact or drop, never keep the match.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "DETECTOR_KINDS",
    "SensitiveMatch",
    "find_sensitive",
    "iban_valid",
    "luhn_valid",
]


@dataclass(frozen=True)
class SensitiveMatch:
    kind: str  # one of DETECTOR_KINDS
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card number."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Issuer prefixes of the card networks (ISO/IEC 7812 IIN ranges in use). A Luhn-valid digit
# run that starts elsewhere (order numbers, phone numbers) is not a card.
_CARD_PREFIX = re.compile(
    r"^(?:4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|3(?:0[0-5]|[689])"
    r"|6(?:011|5|4[4-9]|2)|35(?:2[89]|[3-8]\d)|50|5[6-8]|6[0-9]|1)"
)
# 13-19 digits, optionally grouped by single spaces or dashes (never across lines). A letter
# may touch the run: OCR drops spaces ("card4539 1488 0343 6467", "6467Thanks"); the issuer
# prefix and Luhn check still decide.
_CARD_RUN = re.compile(r"(?<!\d)\d(?:[ \-]?\d){12,18}(?!\d)")


def _find_cards(text: str) -> Iterable[tuple[int, int]]:
    for m in _CARD_RUN.finditer(text):
        raw = m.group(0)
        digits = re.sub(r"[ \-]", "", raw)
        seps = set(re.findall(r"[ \-]", raw))
        if len(seps) > 1 or not 13 <= len(digits) <= 19:
            continue
        if _CARD_PREFIX.match(digits) and luhn_valid(digits):
            yield m.start(), m.end()


# IBAN lengths by country (ISO 13616 registry, SWIFT release 2024).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}(?![A-Za-z0-9])")


def iban_valid(iban: str) -> bool:
    """ISO 13616: country length and the mod-97 check (remainder 1)."""
    compact = iban.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _find_ibans(text: str) -> Iterable[tuple[int, int]]:
    for m in _IBAN_RUN.finditer(text):
        raw = m.group(0)
        # The run may swallow a following word ("DE89 3704 ... 00 BIC"): try shorter prefixes
        # that end on a group boundary.
        length = _IBAN_LENGTHS.get(raw[:2])
        if length is None:
            continue
        count = 0
        for i, ch in enumerate(raw):
            if ch != " ":
                count += 1
            if count == length:
                if iban_valid(raw[: i + 1]):
                    yield m.start(), m.start() + i + 1
                break


_B64URL = r"[A-Za-z0-9_\-]"
_TOKEN_PATTERNS: dict[str, re.Pattern[str]] = {
    # OCR reads a capital I as l, 1 or | often enough to matter: fixed prefixes allow that.
    "aws_access_key": re.compile(r"(?<![A-Z0-9])(?:AK[I1l|]A|AS[I1l|]A|ABIA|ACCA|A[I1l|]DA|AROA)"
                                 r"[A-Z0-9]{16}(?![A-Z0-9])"),
    "github_token": re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}"
                               r"|github_pat_[A-Za-z0-9_]{40,255})"),
    "gitlab_token": re.compile(r"(?<![A-Za-z0-9_])gl(?:pat|dt|ptt|rt|oas|cbt)-[A-Za-z0-9_\-]{20,}"),
    "slack_token": re.compile(r"(?<![A-Za-z0-9])xox[abprs]-(?:[A-Za-z0-9]+-){1,4}[A-Za-z0-9]{6,}"),
    "slack_webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    "stripe_key": re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_live_[A-Za-z0-9]{20,}"),
    "openai_key": re.compile(r"(?<![A-Za-z0-9_\-])sk-(?:proj-|svcacct-|admin-|ant-api\d\d-)?"
                             r"[A-Za-z0-9_\-]{32,}"),
    "google_api_key": re.compile(r"(?<![A-Za-z0-9_\-])A[I1l|]za[0-9A-Za-z_\-]{33,37}"
                                 r"(?![A-Za-z0-9_\-])"),
}
# An AWS secret access key: 40 base64 characters after a telling label.
_AWS_SECRET = re.compile(
    r"(?i)(?:aws)?[_ \-]?secret[_ \-]?(?:access)?[_ \-]?key\s*(?:id)?\s*[\"']?\s*[:=]?\s*[\"']?"
    r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
_JWT = re.compile(rf"(?<![A-Za-z0-9_\-])eyJ{_B64URL}{{8,}}\.{_B64URL}{{8,}}\.{_B64URL}{{8,}}")
_PEM_BEGIN = re.compile(r"-{2,}\s*BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?\s*-{2,}")
_PEM_END = re.compile(r"-{2,}\s*END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?\s*-{2,}")
# Without an END marker (it scrolled off screen) the block runs to the end of the text.


def _find_tokens(kind: str) -> Callable[[str], Iterable[tuple[int, int]]]:
    pattern = _TOKEN_PATTERNS[kind]

    def find(text: str) -> Iterable[tuple[int, int]]:
        for m in pattern.finditer(text):
            yield m.start(), m.end()

    return find


def _find_aws_secrets(text: str) -> Iterable[tuple[int, int]]:
    for m in _AWS_SECRET.finditer(text):
        secret = m.group("secret")
        if re.fullmatch(r"[0-9a-f]{40}", secret):  # a git commit hash, not a key
            continue
        yield m.start("secret"), m.end("secret")


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _find_jwts(text: str) -> Iterable[tuple[int, int]]:
    for m in _JWT.finditer(text):
        header_part, payload_part, _ = m.group(0).split(".", 2)
        header = _b64url_json(header_part)
        # A header that decodes to {"alg"/"typ": ...}; or, when OCR garbled a character of
        # it, a payload that is a base64url JSON object too ("eyJ") — a shape ordinary text
        # does not have.
        if (isinstance(header, dict) and ("alg" in header or "typ" in header)) \
                or payload_part.startswith("eyJ"):
            yield m.start(), m.end()


def _find_pem(text: str) -> Iterable[tuple[int, int]]:
    pos = 0
    while True:
        begin = _PEM_BEGIN.search(text, pos)
        if begin is None:
            return
        end = _PEM_END.search(text, begin.end())
        stop = end.end() if end is not None else len(text)
        yield begin.start(), stop
        pos = stop


_DETECTORS: dict[str, Callable[[str], Iterable[tuple[int, int]]]] = {
    "payment_card": _find_cards,
    "iban": _find_ibans,
    "aws_access_key": _find_tokens("aws_access_key"),
    "aws_secret_key": _find_aws_secrets,
    "github_token": _find_tokens("github_token"),
    "gitlab_token": _find_tokens("gitlab_token"),
    "slack_token": _find_tokens("slack_token"),
    "slack_webhook": _find_tokens("slack_webhook"),
    "stripe_key": _find_tokens("stripe_key"),
    "openai_key": _find_tokens("openai_key"),
    "google_api_key": _find_tokens("google_api_key"),
    "jwt": _find_jwts,
    "private_key": _find_pem,
}
DETECTOR_KINDS: tuple[str, ...] = tuple(_DETECTORS)


def find_sensitive(text: str, kinds: Iterable[str] | None = None) -> list[SensitiveMatch]:
    """Every sensitive span in ``text`` (sorted, overlaps kept), for the given detector kinds."""
    wanted = DETECTOR_KINDS if kinds is None else tuple(kinds)
    out: list[SensitiveMatch] = []
    for kind in wanted:
        find = _DETECTORS.get(kind)
        if find is None:
            raise ValueError(f"unknown detector kind: {kind}")
        out.extend(SensitiveMatch(kind, s, e) for s, e in find(text))
    out.sort(key=lambda m: (m.start, m.end))
    return out
