"""The privacy policy: what is never captured, and what each text detector does.

Defaults (in code) always apply: our own windows, the default-excluded apps and private
browser windows are never captured, and every detector has an action. The user's own lists
(apps, title patterns, URL patterns) are user content (SECURITY.md R1): they are kept
sealed in the vault (:mod:`core.privacy.sealed`), never in ``config.toml``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import InvalidInput
from core.privacy.detectors import DETECTOR_KINDS

DROP = "drop"
REDACT = "redact"
ACTIONS = (DROP, REDACT)
REDACT_LINE = "line"  # black out the whole OCR line box that holds a secret
REDACT_SPAN = "span"  # black out the secret's proportional part of the line box (+ margin)

# Keys and private-key blocks drop the frame: a screen that shows one is usually a config
# file or a terminal whose neighbouring lines are secrets too. Cards, IBANs and tokens that
# appear inside ordinary pages (a checkout, an invoice, a chat) are redacted.
DEFAULT_ACTIONS: dict[str, str] = {kind: REDACT for kind in DETECTOR_KINDS}
DEFAULT_ACTIONS["private_key"] = DROP
DEFAULT_ACTIONS["aws_secret_key"] = DROP

_MAX_ENTRIES = 500
_MAX_ENTRY_CHARS = 300


@dataclass(frozen=True)
class PrivacyPolicy:
    """User exclusions (additive to the defaults) and per-detector actions."""

    excluded_apps: tuple[str, ...] = ()
    title_patterns: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()
    actions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    redact_mode: str = REDACT_LINE
    # Users may turn off single default app exclusions (by their display name), never the
    # own-window and private-window rules.
    allowed_default_apps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, values in (("excluded_apps", self.excluded_apps),
                             ("title_patterns", self.title_patterns),
                             ("url_patterns", self.url_patterns),
                             ("allowed_default_apps", self.allowed_default_apps)):
            if len(values) > _MAX_ENTRIES:
                raise InvalidInput(f"privacy {name}: at most {_MAX_ENTRIES} entries")
            for value in values:
                if not isinstance(value, str) or not value.strip():
                    raise InvalidInput(f"privacy {name}: entries must be non-empty text")
                if len(value) > _MAX_ENTRY_CHARS:
                    raise InvalidInput(f"privacy {name}: an entry is longer than "
                                       f"{_MAX_ENTRY_CHARS} characters")
                if value.startswith("re:"):
                    try:
                        re.compile(value[3:])
                    except re.error as exc:
                        raise InvalidInput(f"privacy {name}: a regular expression does "
                                           f"not compile ({exc.msg})") from exc
        for kind, action in self.actions.items():
            if kind not in DETECTOR_KINDS:
                raise InvalidInput(f"unknown detector {kind!r}; known: "
                                   f"{', '.join(DETECTOR_KINDS)}")
            if action not in ACTIONS:
                raise InvalidInput(f"detector {kind}: action must be 'drop' or 'redact'")
        if self.redact_mode not in (REDACT_LINE, REDACT_SPAN):
            raise InvalidInput("redact_mode must be 'line' or 'span'")

    def action(self, kind: str) -> str:
        return self.actions.get(kind, DEFAULT_ACTIONS.get(kind, DROP))

    def with_action(self, kind: str, action: str) -> PrivacyPolicy:
        return replace(self, actions={**self.actions, kind: action})

    # -- serialisation (the plaintext only ever exists in memory or sealed) -----------------
    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "version": 1, "excluded_apps": list(self.excluded_apps),
            "title_patterns": list(self.title_patterns), "url_patterns": list(self.url_patterns),
            "actions": dict(sorted(self.actions.items())), "redact_mode": self.redact_mode,
            "allowed_default_apps": list(self.allowed_default_apps),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> PrivacyPolicy:
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != 1:
                raise ValueError("unsupported policy version")
            actions = {**DEFAULT_ACTIONS, **{str(k): str(v) for k, v in
                                             dict(data.get("actions", {})).items()
                                             if str(k) in DETECTOR_KINDS}}
            return cls(
                excluded_apps=tuple(str(v) for v in data.get("excluded_apps", [])),
                title_patterns=tuple(str(v) for v in data.get("title_patterns", [])),
                url_patterns=tuple(str(v) for v in data.get("url_patterns", [])),
                actions=actions, redact_mode=str(data.get("redact_mode", REDACT_LINE)),
                allowed_default_apps=tuple(str(v) for v in data.get("allowed_default_apps", [])),
            )
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidInput("the stored privacy policy cannot be read") from exc

    @property
    def has_user_lists(self) -> bool:
        return bool(self.excluded_apps or self.title_patterns or self.url_patterns)
