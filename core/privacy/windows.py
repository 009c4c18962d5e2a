"""Window-level privacy rules: our own windows, excluded apps, private browser windows.

These run on the window's metadata (process name, WM_CLASS / bundle id, title, URL) before
any pixel is read by OCR, so an excluded window costs nothing and leaves nothing.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Iterable

from core.types import ActiveWindow

OUR_APP_TOKENS = ("afterimage",)

# Default-excluded applications, matched case-insensitively against the process name, the
# WM_CLASS (instance and class), the macOS bundle id and the Windows executable name,
# with separators and a trailing ".exe" removed ("KeePassXC.exe" -> "keepassxc").
DEFAULT_EXCLUDED_APPS: dict[str, tuple[str, ...]] = {
    # password managers
    "KeePassXC": ("keepassxc", "org.keepassxc.keepassxc"),
    "KeePass": ("keepass", "keepass2", "keepassx", "kpcli"),
    "1Password": ("1password", "com.1password.1password", "com.agilebits.onepassword7"),
    "Bitwarden": ("bitwarden", "com.bitwarden.desktop"),
    "Enpass": ("enpass", "in.sinew.enpass-desktop"),
    "LastPass": ("lastpass",),
    "Dashlane": ("dashlane",),
    "pass / QtPass": ("qtpass", "passmenu", "gopass", "passff", "pass"),
    "Proton Pass": ("protonpass", "proton-pass", "me.proton.pass"),
    "GNOME Keyring / Seahorse": ("seahorse", "org.gnome.seahorse.application"),
    "KWalletManager": ("kwalletmanager", "kwalletmanager5"),
    "macOS Keychain Access": ("keychainaccess", "com.apple.keychainaccess"),
    "macOS Passwords": ("com.apple.passwords",),
    # authenticators
    "Authy": ("authy", "authydesktop", "com.authy.authy-mac"),
    "Yubico Authenticator": ("yubioath", "yubicoauthenticator", "authenticator.yubico",
                             "com.yubico.authenticator", "yubioath-flutter"),
    "GNOME Authenticator": ("authenticator", "com.belmoussaoui.authenticator"),
    "Ente Auth": ("enteauth", "ente_auth", "io.ente.auth"),
    "OTPClient": ("otpclient", "com.github.paolostivanin.otpclient"),
    "KeeWeb": ("keeweb",),
    # remote-desktop clients (the remote screen can hold anything, including other people's)
    "Remmina": ("remmina", "org.remmina.remmina"),
    "TeamViewer": ("teamviewer",),
    "AnyDesk": ("anydesk",),
    "RustDesk": ("rustdesk",),
    "VNC viewer": ("vncviewer", "xtigervncviewer", "tigervnc", "realvnc-vncviewer", "vinagre",
                   "xvnc4viewer", "ssvncviewer"),
    "FreeRDP": ("xfreerdp", "xfreerdp3", "wlfreerdp", "sdl-freerdp", "sdl-freerdp3"),
    "rdesktop": ("rdesktop",),
    "GNOME Connections": ("gnome-connections", "org.gnome.connections"),
    "KRDC": ("krdc",),
    "Microsoft Remote Desktop": ("mstsc", "msrdc", "com.microsoft.rdc.macos",
                                 "windows app"),
    "Chrome Remote Desktop": ("remoting_host", "chrome-remote-desktop"),
    "Parsec": ("parsecd", "parsec"),
}

_BROWSER_TOKENS = ("firefox", "chrome", "chromium", "edge", "msedge", "brave", "opera",
                   "safari", "vivaldi", "librewolf", "waterfox", "yandex", "thorium")

# Title markers of private / incognito windows, from the browsers' localisation files.
# The browser writes them into the *suffix* of the window title (after the page title), so
# they are only looked for in the last two " - " / " — " segments of a browser's title.
PRIVATE_TITLE_MARKERS: dict[str, tuple[str, ...]] = {
    # Firefox ("— Mozilla Firefox Private Browsing", older "(Private Browsing)")
    "en": ("private browsing", "incognito", "inprivate", "private window", "(private)"),
    "de": ("privater modus", "privates fenster", "inkognito", "privates surfen"),
    "fr": ("navigation privée", "fenêtre privée", "incognito"),
    "es": ("navegación privada", "incógnito", "ventana privada", "modo incógnito"),
    "it": ("navigazione anonima", "navigazione privata", "in incognito"),
    "pt": ("navegação privada", "navegação privativa", "anônima", "anónima",
           "janela privada"),
    "nl": ("privénavigatie", "privévenster", "incognito"),
    "pl": ("tryb prywatny", "okno prywatne", "incognito"),
    "ru": ("приватный просмотр", "приватное окно", "приватный режим", "инкогнито",
           "режим инкогнито"),
    "uk": ("приватний перегляд", "приватне вікно", "анонімний режим"),
    "tr": ("gizli gezinti", "gizli pencere", "gizli"),
    "sv": ("privat surfning", "privat fönster", "inkognito"),
    "ja": ("プライベートブラウジング", "プライベート ブラウズ", "シークレット モード",
           "シークレットモード", "プライベート"),
    "zh-CN": ("隐私浏览", "无痕模式", "无痕", "隐身模式", "隐身", "隐私窗口"),
    "zh-TW": ("隱私瀏覽", "無痕模式", "無痕", "私密瀏覽"),
    "ko": ("시크릿 모드", "시크릿", "사생활 보호 모드", "사생활 보호", "비공개 브라우징"),
    "ar": ("التصفح الخاص", "وضع التصفح المتخفي", "متخفي"),
    "cs": ("anonymní prohlížení", "anonymní okno", "soukromé prohlížení"),
    "hi": ("निजी ब्राउज़िंग", "गुप्त"),
}
_SEPARATORS = re.compile(r"\s+[-—–|]\s+")


def normalise_app(name: str) -> str:
    """Lowercase, NFKC, without a trailing .exe / .app and without spaces/underscores."""
    value = unicodedata.normalize("NFKC", name).strip().lower()
    for suffix in (".exe", ".app", ".desktop"):
        if value.endswith(suffix):
            value = value[: -len(suffix)]
    return re.sub(r"[\s_]+", "", value)


_DEFAULT_TOKENS = {normalise_app(t) for tokens in DEFAULT_EXCLUDED_APPS.values() for t in tokens}
_PRIVATE_MARKERS = tuple(sorted({unicodedata.normalize("NFKC", m).lower()
                                 for ms in PRIVATE_TITLE_MARKERS.values() for m in ms},
                                key=len, reverse=True))


def app_names(window: ActiveWindow) -> set[str]:
    """Every normalised name under which ``window``'s application may be known."""
    names = {window.app, window.wm_class}
    return {normalise_app(n) for n in names if n}


def is_own_window(window: ActiveWindow, own_pids: Iterable[int] = ()) -> bool:
    if window.pid is not None and window.pid in set(own_pids):
        return True
    return any(tok in name for name in app_names(window) for tok in OUR_APP_TOKENS)


def matches_default_excluded(window: ActiveWindow) -> bool:
    return bool(app_names(window) & _DEFAULT_TOKENS)


def matches_app_list(window: ActiveWindow, apps: Iterable[str]) -> bool:
    """User app list: exact normalised names, or shell patterns (``*office*``)."""
    names = app_names(window)
    for entry in apps:
        pattern = normalise_app(entry)
        if not pattern:
            continue
        if any(ch in pattern for ch in "*?["):
            if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                return True
        elif pattern in names:
            return True
    return False


def matches_patterns(value: str | None, patterns: Iterable[str]) -> bool:
    """Case-insensitive: ``re:<regex>`` is a regular expression, anything else a shell
    pattern when it has ``*``/``?``, else a substring."""
    if not value:
        return False
    text = unicodedata.normalize("NFKC", value).casefold()
    for raw in patterns:
        if raw.startswith("re:"):
            if re.search(raw[3:], value, re.IGNORECASE):
                return True
            continue
        pattern = unicodedata.normalize("NFKC", raw).casefold()
        if not pattern:
            continue
        if "*" in pattern or "?" in pattern:
            if fnmatch.fnmatchcase(text, pattern):
                return True
        elif pattern in text:
            return True
    return False


def is_browser(window: ActiveWindow) -> bool:
    return any(tok in name for name in app_names(window) for tok in _BROWSER_TOKENS)


def is_private_browser_window(window: ActiveWindow) -> bool:
    """True when the title carries a private/incognito marker in the browser's suffix."""
    title = unicodedata.normalize("NFKC", window.title or "").casefold()
    if not title:
        return False
    segments = _SEPARATORS.split(title)
    names_browser = any(tok in seg for seg in segments[-2:] for tok in _BROWSER_TOKENS)
    if not (is_browser(window) or names_browser):
        return False
    tail = " - ".join(segments[-2:]) if len(segments) > 1 else segments[0]
    # A title that is only the browser's own label (e.g. "Private Browsing" on the new-tab
    # page) still has the marker in its one segment.
    return any(marker in tail for marker in _PRIVATE_MARKERS)
