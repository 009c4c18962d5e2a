"""Generated sensitive and ordinary screen texts for the privacy filter tests (SECURITY.md T6).

Every secret is synthetic: card numbers are Luhn-valid with real network prefixes, IBANs carry
correct mod-97 check digits, tokens follow the providers' documented shapes with random
bodies. Deterministic for a seed.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        candidate = body + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch)
            if i % 2 == 1:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos:pos + size])
        pos += size
    if pos < len(digits):
        out.append(digits[pos:])
    return sep.join(p for p in out if p)


def make_iban(country: str, length: int, rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(length - 4))
    moved = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in moved))
    check = 98 - number % 97
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_jwt(rng: random.Random) -> str:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = b64({"sub": rand(rng, 8), "name": "Ada", "iat": rng.randrange(1, 2**31)})
    return f"{header}.{payload}.{rand(rng, 43, ALNUM + '-_')}"


@dataclass(frozen=True)
class Sample:
    kind: str  # detector kind, or "text" for ordinary
    lines: tuple[str, ...]
    secret: str  # the exact secret string shown ("" for ordinary)


def sensitive_text_samples(seed: int = 7) -> list[Sample]:
    rng = random.Random(seed)
    out: list[Sample] = []
    cards = [("4", 16, (4, 4, 4, 4)), ("51", 16, (4, 4, 4, 4)), ("2221", 16, (4, 4, 4, 4)),
             ("37", 15, (4, 6, 5)), ("6011", 16, (4, 4, 4, 4)), ("3530", 16, (4, 4, 4, 4)),
             ("4", 13, (4, 4, 5)), ("62", 19, (4, 4, 4, 4, 3))]
    labels = ["Card number", "Kartennummer", "Numéro de carte", "Pay with", "Visa ending"]
    for i in range(24):
        prefix, length, sizes = cards[i % len(cards)]
        digits = luhn_complete(prefix, length, rng)
        sep = [" ", "-", ""][i % 3]
        shown = group(digits, sizes, sep) if sep else digits
        expiry = f"Expires {rng.randrange(1, 13):02d}/2{rng.randrange(6, 9)}"
        out.append(Sample("payment_card", (f"{labels[i % len(labels)]}: {shown}", expiry),
                          shown))
    countries = [("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("IT", 27),
                 ("BE", 16), ("CH", 21), ("AT", 20), ("PL", 28)]
    for i in range(16):
        country, length = countries[i % len(countries)]
        iban = make_iban(country, length, rng)
        out.append(Sample("iban", ("Transfer to", f"IBAN {iban}", "Reference: rent May"), iban))
    tokens = [
        ("aws_access_key", lambda: "AKIA" + rand(rng, 16, string.ascii_uppercase + string.digits)),
        ("aws_access_key", lambda: "ASIA" + rand(rng, 16, string.ascii_uppercase + string.digits)),
        ("github_token", lambda: "ghp_" + rand(rng, 36)),
        ("github_token", lambda: "gho_" + rand(rng, 36)),
        ("github_token", lambda: "ghs_" + rand(rng, 36)),
        ("github_token", lambda: "github_pat_" + rand(rng, 22) + "_" + rand(rng, 59)),
        ("gitlab_token", lambda: "glpat-" + rand(rng, 20, ALNUM + "-_")),
        ("slack_token", lambda: f"xoxb-{rng.randrange(10**11, 10**12)}-"
                                f"{rng.randrange(10**11, 10**12)}-{rand(rng, 24)}"),
        ("slack_token", lambda: f"xoxp-{rng.randrange(10**11, 10**12)}-{rand(rng, 24)}"),
        ("stripe_key", lambda: "sk_live_" + rand(rng, 24)),
        ("stripe_key", lambda: "rk_live_" + rand(rng, 24)),
        ("openai_key", lambda: "sk-" + rand(rng, 48)),
        ("openai_key", lambda: "sk-proj-" + rand(rng, 48, ALNUM + "-_")),
        ("google_api_key", lambda: "AIza" + rand(rng, 35, ALNUM + "-_")),
    ]
    for i in range(28):
        kind, make = tokens[i % len(tokens)]
        token = make()
        label = ["export TOKEN=", "api_key = ", "Authorization: Bearer ", "key: "][i % 4]
        out.append(Sample(kind, ("# deploy settings", f"{label}{token}", "region = eu-west-1"),
                          token))
    for _ in range(4):
        secret = rand(rng, 40, ALNUM + "/+")
        out.append(Sample("aws_secret_key", ("[default]", "aws_access_key_id = AKIA" +
                                             rand(rng, 16, string.ascii_uppercase),
                                             f"aws_secret_access_key = {secret}"), secret))
    for _ in range(10):
        jwt = make_jwt(rng)
        out.append(Sample("jwt", ("Response headers", f"token: {jwt}"), jwt))
    for kind in ("RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA ", "RSA ", "", "EC ", ""):
        body = [rand(rng, 64, ALNUM + "+/") for _ in range(3)]
        lines = (f"-----BEGIN {kind}PRIVATE KEY-----", *body, f"-----END {kind}PRIVATE KEY-----")
        out.append(Sample("private_key", lines, body[0]))
    return out


ORDINARY_LINES = [
    "Meeting notes: quarterly planning with the design team",
    "Order #40012345 shipped on 2024-03-14, tracking 1Z999AA10123456784",
    "Call me at +49 30 1234 5678 or +1 (555) 010-9999",
    "Invoice 2024-0042 total EUR 1,234.56 due in 30 days",
    "git commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "The quick brown fox jumps over the lazy dog",
    "ISBN 978-3-16-148410-0 and DOI 10.1000/182",
    "Build 20240314.7 passed 1523 tests in 412 seconds",
    "Temperature 21.5 C, humidity 48%, wind 12 km/h",
    "sk-learn is a Python library; skip-gram models learn embeddings",
    "Sort key: AKIA is a prefix that AWS uses for access keys",
    "UUID 123e4567-e89b-12d3-a456-426614174000",
    "Serial number 1234 5678 9012 3456 on the back of the router",
    "Flight LH 1234 departs 10:45 from gate B22, seat 14C",
    "Population of Berlin: 3,850,809 (2023 estimate)",
    "eyJ is how base64 JSON starts; this line is plain text",
    "Phone IMEI 35-209900-176148-1",
    "Postcode SW1A 1AA, London; DE 10115 Berlin",
    "Timestamp 1710412345678 ms since the epoch",
    "Revenue grew 12% year over year to 4.2 billion",
]


def ordinary_text_samples(seed: int = 11, n: int = 120) -> list[Sample]:
    rng = random.Random(seed)
    words = ("report project budget review draft summary design cat garden river travel "
             "recipe lesson chapter figure table result method data team schedule").split()
    out = []
    for i in range(n):
        base = ORDINARY_LINES[i % len(ORDINARY_LINES)]
        extra = " ".join(rng.choice(words) for _ in range(8)).capitalize()
        out.append(Sample("text", (base, extra, f"Page {i + 1} of {n}"), ""))
    return out


# Window titles of private/incognito windows, by browser and UI language (>= 10 languages).
PRIVATE_TITLES: list[tuple[str, str, str]] = [
    # (lang, wm_class, title)
    ("en", "firefox", "Bank login — Mozilla Firefox Private Browsing"),
    ("en", "firefox", "Mozilla Firefox (Private Browsing)"),
    ("en", "Google-chrome", "Search results - Google Chrome (Incognito)"),
    ("en", "Chromium", "New Incognito tab - Chromium"),
    ("en", "Microsoft-edge", "Weather and 2 more pages - [InPrivate] - Microsoft Edge"),
    ("en", "Brave-browser", "News - Brave (Private)"),
    ("en", "Opera", "Opera - Private browsing"),
    ("en", "Vivaldi-stable", "Docs - Vivaldi - Private Browsing"),
    ("en", "Safari", "Private Browsing - Safari"),
    ("de", "firefox", "Konto — Mozilla Firefox — Privater Modus"),
    ("de", "Google-chrome", "Suche - Google Chrome (Inkognito)"),
    ("de", "Opera", "Opera - Privates Surfen"),
    ("fr", "firefox", "Compte — Mozilla Firefox — Navigation privée"),
    ("fr", "Google-chrome", "Recherche - Google Chrome (navigation privée)"),
    ("es", "firefox", "Cuenta — Mozilla Firefox — Navegación privada"),
    ("es", "Google-chrome", "Buscar - Google Chrome (incógnito)"),
    ("it", "firefox", "Conto — Mozilla Firefox — Navigazione anonima"),
    ("it", "Google-chrome", "Ricerca - Google Chrome (in incognito)"),
    ("pt", "firefox", "Conta — Mozilla Firefox — Navegação privativa"),
    ("pt", "firefox", "Conta — Mozilla Firefox — Navegação privada"),
    ("pt", "Google-chrome", "Pesquisa - Google Chrome (anônima)"),
    ("ru", "firefox", "Банк — Mozilla Firefox — Приватный просмотр"),
    ("ru", "Google-chrome", "Поиск - Google Chrome (инкогнито)"),
    ("ja", "firefox", "銀行 — Mozilla Firefox — プライベートブラウジング"),
    ("ja", "Google-chrome", "検索 - Google Chrome (シークレット モード)"),
    ("zh-CN", "firefox", "银行 — Mozilla Firefox — 隐私浏览"),
    ("zh-CN", "Google-chrome", "搜索 - Google Chrome (无痕模式)"),
    ("zh-CN", "Microsoft-edge", "搜索 - [InPrivate] - Microsoft Edge"),
    ("zh-TW", "Google-chrome", "搜尋 - Google Chrome (無痕模式)"),
    ("zh-TW", "firefox", "銀行 — Mozilla Firefox — 隱私瀏覽"),
    ("ko", "Google-chrome", "검색 - Google Chrome (시크릿 모드)"),
    ("ko", "firefox", "은행 — Mozilla Firefox — 사생활 보호 모드"),
    ("nl", "firefox", "Bank — Mozilla Firefox — Privénavigatie"),
    ("pl", "firefox", "Bank — Mozilla Firefox — Tryb prywatny"),
    ("tr", "Google-chrome", "Arama - Google Chrome (Gizli)"),
    ("sv", "firefox", "Bank — Mozilla Firefox — Privat surfning"),
]

EXCLUDED_APP_WINDOWS: list[tuple[str, str, str]] = [
    # (process name, wm_class, title)
    ("keepassxc", "KeePassXC", "Passwords.kdbx - KeePassXC"),
    ("KeePass.exe", "KeePass", "Database.kdbx - KeePass"),
    ("1password", "1Password", "1Password"),
    ("bitwarden", "Bitwarden", "My Vault | Bitwarden"),
    ("enpass", "Enpass", "Enpass"),
    ("lastpass", "LastPass", "LastPass"),
    ("dashlane", "Dashlane", "Dashlane"),
    ("qtpass", "QtPass", "QtPass"),
    ("authy", "Authy Desktop", "Authy"),
    ("yubioath", "Yubico Authenticator", "Yubico Authenticator"),
    ("authenticator", "com.belmoussaoui.Authenticator", "Authenticator"),
    ("remmina", "org.remmina.Remmina", "Remote desktop - 10.0.0.5"),
    ("TeamViewer", "TeamViewer", "TeamViewer"),
    ("anydesk", "anydesk", "AnyDesk"),
    ("rustdesk", "rustdesk", "RustDesk"),
    ("vncviewer", "Vncviewer", "TigerVNC: desktop"),
    ("xfreerdp", "xfreerdp", "FreeRDP: 10.0.0.7"),
]

ORDINARY_WINDOWS: list[tuple[str, str, str]] = [
    ("firefox", "firefox", "Incognito (2021 film) - Wikipedia — Mozilla Firefox"),
    ("firefox", "firefox", "Private Browsing explained - Mozilla Support — Mozilla Firefox"),
    ("chrome", "Google-chrome", "Inbox (3) - Gmail - Google Chrome"),
    ("code", "Code", "passwords.md - notes - Visual Studio Code"),
    ("gedit", "Gedit", "KeePassXC review.txt - gedit"),
    ("libreoffice", "libreoffice-writer", "Report.odt - LibreOffice Writer"),
    ("thunderbird", "thunderbird", "Inbox - Mozilla Thunderbird"),
    ("nautilus", "org.gnome.Nautilus", "Documents"),
    ("slack", "Slack", "Slack | general | Team"),
    ("gnome-terminal-server", "Gnome-terminal", "user@host: ~/projects"),
]
