"""Window rules, policy, redaction (text and pixels), pause durations, sealed policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw, ImageFont

from core.errors import InvalidInput, VaultCorrupt
from core.privacy import PrivacyFilter, PrivacyPolicy, find_sensitive
from core.privacy.pause import PauseControl, parse_pause_duration
from core.privacy.redact import redact
from core.privacy.sealed import HandoffKey, hand_over, open_with, seal_to
from core.privacy.windows import PRIVATE_TITLE_MARKERS, is_private_browser_window
from core.types import ActiveWindow, OcrLine, OcrResult
from tests.privacy_samples import EXCLUDED_APP_WINDOWS, ORDINARY_WINDOWS, PRIVATE_TITLES


def win(app: str, wm_class: str, title: str, pid: int | None = None,
        url: str | None = None) -> ActiveWindow:
    return ActiveWindow(app=app, title=title, pid=pid, wm_class=wm_class, url=url)


@pytest.mark.parametrize(("lang", "wm_class", "title"), PRIVATE_TITLES)
def test_private_windows_are_dropped_in_every_language(lang, wm_class, title):
    assert PrivacyFilter().window_reason(win(wm_class.lower(), wm_class, title)) == \
        "private_window"


def test_private_titles_cover_ten_languages():
    assert len({lang for lang, _, _ in PRIVATE_TITLES}) >= 10
    assert len(PRIVATE_TITLE_MARKERS) >= 10


@pytest.mark.parametrize(("proc", "wm_class", "title"), EXCLUDED_APP_WINDOWS)
def test_default_excluded_apps_by_process_or_wm_class(proc, wm_class, title):
    f = PrivacyFilter()
    assert f.window_reason(win(proc, wm_class, title)) == "excluded_app"
    assert f.window_reason(win("unknown", wm_class, title)) == "excluded_app"


@pytest.mark.parametrize(("proc", "wm_class", "title"), ORDINARY_WINDOWS)
def test_ordinary_windows_are_kept(proc, wm_class, title):
    assert PrivacyFilter().window_reason(win(proc, wm_class, title)) is None


def test_marker_outside_the_browser_suffix_or_outside_a_browser_is_kept():
    assert not is_private_browser_window(win("gedit", "Gedit", "Incognito notes.txt - gedit"))
    assert not is_private_browser_window(
        win("firefox", "firefox", "Incognito (film) - Wikipedia — Mozilla Firefox"))


def test_own_windows_by_pid_and_wm_class():
    f = PrivacyFilter(own_pids=[4242])
    assert f.window_reason(win("python3", "python3", "x", pid=4242)) == "own_window"
    assert f.window_reason(win("python3", "afterimage", "Afterimage")) == "own_window"
    assert f.window_reason(win("python3", "python3", "x", pid=1)) is None


def test_user_lists_apps_titles_urls_and_allowed_defaults():
    policy = PrivacyPolicy(excluded_apps=("signal-desktop", "*office*"),
                           title_patterns=("*medical record*", "re:^salary \\d{4}"),
                           url_patterns=("mybank.example",),
                           allowed_default_apps=("Remmina",))
    f = PrivacyFilter(policy)
    assert f.window_reason(win("signal-desktop", "Signal", "Signal")) == "excluded_app"
    assert f.window_reason(win("soffice.bin", "libreoffice", "x")) == "excluded_app"
    assert f.window_reason(win("evince", "Evince", "My Medical Record.pdf")) == "excluded_title"
    assert f.window_reason(win("gedit", "Gedit", "Salary 2024.ods")) == "excluded_title"
    assert f.window_reason(win("firefox", "firefox", "Home", url="https://mybank.example/x")) \
        == "excluded_url"
    assert f.window_reason(win("remmina", "org.remmina.Remmina", "x")) is None
    assert f.window_reason(win("keepassxc", "KeePassXC", "x")) == "excluded_app"


def test_policy_validation_and_round_trip():
    with pytest.raises(InvalidInput):
        PrivacyPolicy(title_patterns=("re:(unclosed",))
    with pytest.raises(InvalidInput):
        PrivacyPolicy(actions={"payment_card": "ignore"})
    with pytest.raises(InvalidInput):
        PrivacyPolicy(actions={"nope": "drop"})
    p = PrivacyPolicy(excluded_apps=("ärzte-app",), redact_mode="span").with_action(
        "iban", "drop")
    assert PrivacyPolicy.from_json(p.to_json()) == p
    with pytest.raises(InvalidInput):
        PrivacyPolicy.from_json(b"{not json")


def _render(lines: list[str]) -> tuple[Image.Image, OcrResult]:
    img = Image.new("RGB", (800, 60 + 40 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    ocr = []
    for i, text in enumerate(lines):
        x, y = 20, 20 + 40 * i
        draw.text((x, y), text, fill="black", font=font)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=font)
        ocr.append(OcrLine(text=text, confidence=0.99, box=(x0, y0, x1, y1)))
    return img, OcrResult(tuple(ocr))


def _dark(img: Image.Image, box: tuple[int, int, int, int]) -> float:
    crop = img.convert("L").crop(box)
    data = crop.tobytes()
    return sum(1 for v in data if v < 30) / len(data)


def test_redaction_replaces_text_and_blacks_out_the_line_box():
    card = "4111 1111 1111 1111"
    img, ocr = _render(["Hello there", f"Card: {card}", "Thanks"])
    verdict = PrivacyFilter().check_text(img, ocr, title=f"Pay {card}")
    assert verdict.redacted and not verdict.drop
    assert card not in verdict.ocr.text and "[redacted payment card]" in verdict.ocr.text
    assert card not in verdict.title
    assert verdict.ocr.lines[0].text == "Hello there"
    box = ocr.lines[1].box
    assert _dark(verdict.image, box) > 0.98  # every pixel of the secret's line is black
    assert _dark(verdict.image, ocr.lines[0].box) < 0.5  # the other lines are untouched
    assert _dark(img, box) < 0.5  # the input image was not modified in place


def test_span_mode_keeps_the_start_of_the_line():
    token = "ghp_" + "A1b2C3d4" * 4 + "zzzz"
    text = f"Some long introductory words before the secret {token}"
    img, ocr = _render([text])
    done = redact(img, ocr, find_sensitive(text), mode="span")
    (box,) = done.boxes
    line = ocr.lines[0].box
    assert box[0] > line[0] + 100 and box[2] == line[2]


def test_drop_policy_for_private_keys():
    img, ocr = _render(["-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA",
                        "-----END OPENSSH PRIVATE KEY-----"])
    verdict = PrivacyFilter().check_text(img, ocr)
    assert verdict.drop and verdict.ocr.text == "" and verdict.kinds == {"private_key": 1}
    verdict = PrivacyFilter(PrivacyPolicy().with_action("private_key", "redact")).check_text(
        img, ocr)
    assert not verdict.drop and "OPENSSH" not in verdict.ocr.text
    for line in ocr.lines:
        assert _dark(verdict.image, line.box) > 0.98


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(("text", "minutes"), [("15m", 15), ("1h", 60), ("90s", 1.5),
                                               ("2 hours", 120)])
def test_pause_with_durations(tmp_path, text, minutes):
    clock = Clock()
    control = PauseControl(tmp_path, clock)
    control.pause(parse_pause_duration(text))
    assert control.state().paused
    clock.now += timedelta(minutes=minutes) - timedelta(seconds=1)
    assert control.state().paused
    clock.now += timedelta(seconds=1)
    assert not control.state().paused


def test_pause_until_resumed_and_resume(tmp_path):
    clock = Clock()
    control = PauseControl(tmp_path, clock)
    control.pause(parse_pause_duration("until-resumed"))
    clock.now += timedelta(days=30)
    assert control.state().paused and control.state().until is None
    control.resume()
    assert not control.state().paused
    (tmp_path / "pause.json").write_text("garbage")
    assert control.state().paused  # unreadable: stay paused (privacy first)
    with pytest.raises(InvalidInput):
        parse_pause_duration("soon")
    with pytest.raises(InvalidInput):
        parse_pause_duration("30d")


def test_handoff_opens_only_with_the_service_key(tmp_path):
    service = HandoffKey()
    hand_over(tmp_path, 1234, service.public, b'{"x": 1}')
    raw = (tmp_path / "policy-handoff.sealed").read_bytes()
    assert b'"x"' not in raw
    assert service.receive(tmp_path, 1234) == b'{"x": 1}'
    assert not (tmp_path / "policy-handoff.sealed").exists()
    hand_over(tmp_path, 1234, service.public, b"{}")
    with pytest.raises(VaultCorrupt):
        HandoffKey().receive(tmp_path, 1234)  # another service instance cannot read it
    sealed = seal_to(service.public, b"l", b"ctx", b"data")
    with pytest.raises(VaultCorrupt):
        open_with(lambda p: b"\0" * 32, service.public, b"l", b"ctx", sealed)
