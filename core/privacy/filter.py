"""The privacy filter: decides, before anything is stored or embedded, what happens to a
frame (SECURITY.md R10). Window rules first (no OCR spent on an excluded window), then the
text detectors on the OCR result, then redaction of what is kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from PIL import Image

from core.privacy.detectors import find_sensitive
from core.privacy.policy import DROP, PrivacyPolicy
from core.privacy.redact import redact, redact_text
from core.privacy.windows import (
    DEFAULT_EXCLUDED_APPS,
    is_own_window,
    is_private_browser_window,
    matches_app_list,
    matches_default_excluded,
    matches_patterns,
)
from core.types import ActiveWindow, OcrResult

# Skip reasons (counted, never explained with content).
OWN_WINDOW = "own_window"
EXCLUDED_APP = "excluded_app"
PRIVATE_WINDOW = "private_window"
EXCLUDED_TITLE = "excluded_title"
EXCLUDED_URL = "excluded_url"
SENSITIVE = "sensitive"


@dataclass(frozen=True)
class TextVerdict:
    """What to store for a frame whose window passed: maybe redacted, or nothing (drop)."""

    drop: bool
    image: Image.Image
    ocr: OcrResult
    title: str
    url: str | None
    kinds: dict[str, int] = field(default_factory=dict)  # detector kind -> matches
    redacted_boxes: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def redacted(self) -> bool:
        return bool(self.kinds) and not self.drop


class PrivacyFilter:
    """Holds the policy in memory; thread-safe to read (the policy is replaced whole)."""

    def __init__(self, policy: PrivacyPolicy | None = None,
                 own_pids: Iterable[int] = ()) -> None:
        self._policy = policy or PrivacyPolicy()
        self._own_pids = frozenset(own_pids)
        self._allowed_defaults = self._allowed(self._policy)

    @staticmethod
    def _allowed(policy: PrivacyPolicy) -> frozenset[str]:
        wanted = {a.casefold() for a in policy.allowed_default_apps}
        return frozenset(name for name in DEFAULT_EXCLUDED_APPS if name.casefold() in wanted)

    @property
    def policy(self) -> PrivacyPolicy:
        return self._policy

    def set_policy(self, policy: PrivacyPolicy) -> None:
        self._allowed_defaults = self._allowed(policy)
        self._policy = policy

    def add_own_pid(self, pid: int) -> None:
        self._own_pids = self._own_pids | {pid}

    def window_reason(self, window: ActiveWindow | None) -> str | None:
        """Why a frame showing ``window`` must not be captured, or ``None`` to go on."""
        if window is None:
            return None
        policy = self._policy
        if is_own_window(window, self._own_pids):
            return OWN_WINDOW
        if matches_default_excluded(window) and not self._default_allowed(window):
            return EXCLUDED_APP
        if policy.excluded_apps and matches_app_list(window, policy.excluded_apps):
            return EXCLUDED_APP
        if is_private_browser_window(window):
            return PRIVATE_WINDOW
        if policy.title_patterns and matches_patterns(window.title, policy.title_patterns):
            return EXCLUDED_TITLE
        if policy.url_patterns and matches_patterns(window.url, policy.url_patterns):
            return EXCLUDED_URL
        return None

    def _default_allowed(self, window: ActiveWindow) -> bool:
        if not self._allowed_defaults:
            return False
        allowed_tokens = [t for name in self._allowed_defaults
                          for t in DEFAULT_EXCLUDED_APPS[name]]
        return matches_app_list(window, allowed_tokens)

    def check_text(self, image: Image.Image, ocr: OcrResult, title: str = "",
                   url: str | None = None) -> TextVerdict:
        """Run the detectors on the OCR text, title and URL; drop or redact."""
        policy = self._policy
        matches = find_sensitive(ocr.text)
        title_matches = find_sensitive(title) if title else []
        url_matches = find_sensitive(url) if url else []
        kinds: dict[str, int] = {}
        for m in (*matches, *title_matches, *url_matches):
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        if not kinds:
            return TextVerdict(False, image, ocr, title, url)
        if any(policy.action(kind) == DROP for kind in kinds):
            return TextVerdict(True, image, OcrResult(()), "", None, kinds)
        done = redact(image, ocr, matches, policy.redact_mode)
        return TextVerdict(
            drop=False, image=done.image, ocr=done.ocr,
            title=redact_text(title, title_matches) if title_matches else title,
            url=redact_text(url, url_matches) if (url and url_matches) else url,
            kinds=kinds, redacted_boxes=done.boxes)
