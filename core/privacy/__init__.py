"""Privacy filters applied before anything is stored or embedded (SECURITY.md R10).

- :mod:`core.privacy.windows`: own windows, default-excluded apps, private browser windows.
- :mod:`core.privacy.detectors`: payment cards, IBANs, API keys and tokens, JWTs, PEM keys.
- :mod:`core.privacy.redact`: text replacement and pixel blackout of OCR boxes.
- :mod:`core.privacy.policy`: the policy (user lists + per-detector actions).
- :mod:`core.privacy.sealed`: the policy sealed in the vault and handed to the service.
- :mod:`core.privacy.pause`: pause / resume with durations.
"""

from __future__ import annotations

from core.privacy.detectors import DETECTOR_KINDS, SensitiveMatch, find_sensitive
from core.privacy.filter import PrivacyFilter, TextVerdict
from core.privacy.policy import DROP, REDACT, PrivacyPolicy

__all__ = [
    "DETECTOR_KINDS",
    "DROP",
    "REDACT",
    "PrivacyFilter",
    "PrivacyPolicy",
    "SensitiveMatch",
    "TextVerdict",
    "find_sensitive",
]
