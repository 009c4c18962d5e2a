"""The privacy filter set (SECURITY.md T6) through the real pipeline: rendered screens ->
RapidOCR -> window rules and text detectors. Reports the rate of sensitive screens dropped
or redacted and the rate of ordinary screens kept untouched.

    PYTHONPATH=. .venv/bin/python -m bench.bench_privacy_filter

Sensitive screens: payment cards, IBANs, API keys/tokens, JWTs, PEM private keys (rendered
and read by OCR), private/incognito browser windows in 19 languages and default-excluded
apps (a rendered screen plus the window's metadata). Ordinary screens: text with look-alike
numbers and words (order numbers, phone numbers, ISBNs, git hashes, UUIDs, IMEIs...) and
ordinary windows (including titles that mention "Incognito" or "KeePassXC" in a page title).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from core.privacy import PrivacyFilter
from core.types import ActiveWindow, Ocr
from tests.privacy_samples import (
    EXCLUDED_APP_WINDOWS,
    ORDINARY_WINDOWS,
    PRIVATE_TITLES,
    ordinary_text_samples,
    sensitive_text_samples,
)

RESULTS = Path(__file__).with_name("results") / "privacy_filter.json"
# The renders are small (one to five lines): RapidOCR's default detector upscales them to a
# 736-px short side, which reads them about as well as the same text inside a full screen;
# at native scale the detector often misplaces boxes on such thin images and long random
# tokens come out as garbage (measured with --native-det: docs/benchmarks.md).


def render(lines: tuple[str, ...] | list[str], font_size: int = 18) -> Image.Image:
    """Lines of text on a white canvas as wide as the longest line (no clipping)."""
    font = ImageFont.load_default(size=font_size)
    step = int(font_size * 1.7)
    width = max(640, 32 + int(max(font.getlength(line) for line in lines)))
    img = Image.new("RGB", (width, 24 + step * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((16, 12 + i * step), line, fill="black", font=font)
    return img


@dataclass
class FilterSetResult:
    sensitive: int = 0
    caught: int = 0  # dropped or redacted
    dropped: int = 0
    redacted: int = 0
    leaked_secret_in_text: int = 0  # kept text that still holds the secret
    ordinary: int = 0
    kept: int = 0
    misses: list[str] = field(default_factory=list)  # kinds/ids only, never the secret
    ocr_misreads: int = 0  # misses where OCR did not read the secret (detectors never saw it)
    false_positives: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def caught_rate(self) -> float:
        return self.caught / self.sensitive if self.sensitive else 0.0

    @property
    def kept_rate(self) -> float:
        return self.kept / self.ordinary if self.ordinary else 0.0


def evaluate(ocr: Ocr, *, ordinary_n: int = 100, limit: int | None = None) -> FilterSetResult:
    t0 = time.perf_counter()
    out = FilterSetResult()
    privacy = PrivacyFilter()
    plain = render(["Weekly report", "Nothing sensitive on this screen"])
    for lang, wm_class, title in PRIVATE_TITLES:
        out.sensitive += 1
        reason = privacy.window_reason(ActiveWindow(app=wm_class.lower(), title=title,
                                                    wm_class=wm_class))
        if reason is not None:
            out.caught += 1
            out.dropped += 1
        else:
            out.misses.append(f"private_window:{lang}")
    for proc, wm_class, title in EXCLUDED_APP_WINDOWS:
        out.sensitive += 1
        if privacy.window_reason(ActiveWindow(app=proc, title=title, wm_class=wm_class)):
            out.caught += 1
            out.dropped += 1
        else:
            out.misses.append(f"excluded_app:{wm_class}")
    samples = sensitive_text_samples()[:limit] if limit else sensitive_text_samples()
    for i, sample in enumerate(samples):
        out.sensitive += 1
        image = render(sample.lines)
        read = ocr.recognize(image)
        verdict = privacy.check_text(image, read)
        if verdict.drop:
            out.caught += 1
            out.dropped += 1
        elif verdict.redacted:
            out.caught += 1
            out.redacted += 1
            if sample.secret in verdict.ocr.text:
                out.leaked_secret_in_text += 1
        else:
            out.misses.append(f"{sample.kind}#{i}")
            if sample.secret not in read.text.replace(" ", ""):
                out.ocr_misreads += 1
    for proc, wm_class, title in ORDINARY_WINDOWS:
        out.ordinary += 1
        if privacy.window_reason(ActiveWindow(app=proc, title=title, wm_class=wm_class)):
            out.false_positives.append(f"window:{wm_class}")
        else:
            out.kept += 1
    ordinary = ordinary_text_samples(n=ordinary_n)
    for i, sample in enumerate(ordinary[:limit] if limit else ordinary):
        out.ordinary += 1
        image = render(sample.lines)
        verdict = privacy.check_text(image, ocr.recognize(image))
        if verdict.drop or verdict.redacted:
            out.false_positives.append(f"text#{i}:{','.join(verdict.kinds)}")
        else:
            out.kept += 1
    del plain
    out.seconds = time.perf_counter() - t0
    return out


def main() -> None:
    import argparse

    from core.ocr import RapidOcrEngine

    parser = argparse.ArgumentParser()
    parser.add_argument("--upscaling-det", action="store_true",
                        help="RapidOCR's default detector, which upscales thin images to a "
                             "736-px short side (very slow on these renders)")
    parser.add_argument("--scripts", choices=("latin", "all"), default="all",
                        help="the recogniser's scripts (ocr.scripts; the service's default "
                             "outside Chinese and Japanese locales is latin)")
    parser.add_argument("--service", action="store_true",
                        help="the engine exactly as the capture service runs it (detection in "
                             "bands, lines on plain backgrounds found from their ink)")
    args = parser.parse_args()
    args.native_det = not args.upscaling_det
    if args.service:
        from core.config import OcrConfig
        from core.service import service_ocr

        engine = service_ocr(OcrConfig(scripts=args.scripts))
    else:
        engine = RapidOcrEngine(native_det=args.native_det, scripts=args.scripts)
    result = evaluate(engine)
    data = {
        "engine": "the service's" if args.service else
        "native-scale detector" if args.native_det else "upscaling detector",
        "recognizer": engine.recognizer,  # the 8-bit one (core/ocr_int8.py) when installed
        "ocr_misreads_among_misses": result.ocr_misreads,
        "sensitive_screens": result.sensitive, "caught": result.caught,
        "dropped": result.dropped, "redacted": result.redacted,
        "caught_rate": round(result.caught_rate, 4),
        "secret_left_in_redacted_text": result.leaked_secret_in_text,
        "ordinary_screens": result.ordinary, "kept": result.kept,
        "kept_rate": round(result.kept_rate, 4), "misses": result.misses,
        "false_positives": result.false_positives, "seconds": round(result.seconds, 1),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    target = RESULTS.with_name("privacy_filter_native.json") if args.native_det else RESULTS
    if args.service:
        target = RESULTS.with_name("privacy_filter_service.json")
    if args.scripts == "latin":
        target = target.with_name(target.stem + "_latin.json")
    target.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
