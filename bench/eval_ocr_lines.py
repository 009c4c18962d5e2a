"""OCR accuracy against known text: rendered screen lines in many fonts, sizes and kinds of text.

``PYTHONPATH=. .venv/bin/python -m bench.eval_ocr_lines [--variants float@1,latin@1,latin@0.85]``

Each line is drawn with FreeType (the fonts the installer's Debian packages bring: DejaVu and
URW's metric clones of Helvetica, Times, Courier, a condensed sans), dark on light or light
on dark, at 11-18 px (small UI text to large body text). The detector finds its boxes once;
each recogniser variant (``model@squeeze``: ``float``, ``int8`` or ``latin`` from
core/ocr_int8.py, at a horizontal scale) reads the same crops. Reported per variant: character
error rate (Levenshtein distance / reference length, whitespace normalised), the share of
lines read exactly, per kind of text and per font, and the recognition's CPU seconds.
Prose comes from Windrecorder's en-US OCR ground truth when ``../shared/eval`` is there
(third-party text), else from a fixed word list. Raw: ``bench/results/ocr_lines.json``.

``--repeats``: instead, lines built from repeated characters (card numbers such as
``4111 1111 1111 1111``, ``========``, ``wwwwwwww``), where greedy CTC decoding is most
fragile, in three fonts at 12-22 px: how many readings narrowing changes, and how many are
wrong with and without it.

``--screenagent N``: instead, N real desktop screenshots of the ScreenAgent test split
(``../shared/eval/screenagent_test``, no ground truth): each variant's reading of the same
detected lines is compared with the float model's (characters that differ, lines identical).
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.bench_ocr_engine import levenshtein

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
SHARED_PROSE = SHARED_EVAL / "windrecorder_ocr" / "OCR_test_1080_words_en-US.txt"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/opentype/urw-base35"))
FONTS = ("DejaVuSans.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf", "NimbusSans-Regular.otf",
         "NimbusRoman-Regular.otf", "NimbusMonoPS-Regular.otf", "NimbusSansNarrow-Regular.otf",
         "URWGothic-Book.otf")
SIZES = (11, 13, 15, 18)
KINDS = ("prose", "code", "numbers", "paths", "secrets")
FALLBACK_WORDS = ("the meeting budget review was moved to Thursday because the design team "
                  "needs another week for the survey results and the travel report").split()


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4))


def _ident(rng: random.Random) -> str:
    parts = ["load", "user", "config", "path", "item", "count", "frame", "index", "value",
             "buffer", "result", "name", "window", "text", "cache"]
    return "_".join(rng.sample(parts, rng.randint(1, 3)))


def _prose_words() -> list[str]:
    if SHARED_PROSE.exists():
        return SHARED_PROSE.read_text(encoding="utf-8").split()
    return FALLBACK_WORDS


def make_line(kind: str, rng: random.Random, words: list[str]) -> str:
    if kind == "prose":
        start = rng.randrange(max(1, len(words) - 16))
        return " ".join(words[start:start + rng.randint(4, 16)])
    if kind == "code":
        a, b, c = _ident(rng), _ident(rng), _ident(rng)
        return rng.choice((
            f"def {a}({b}: str, {c}: int = {rng.randint(0, 99)}) -> dict[str, int]:",
            f"if ({a} >= {rng.randint(1, 500)} && {b} != 0) {{ return {c}[i]; }}",
            f"const {a} = await fetch(`/api/v2/{b}?limit={rng.randint(1, 99)}`);",
            f"{a}.{b}({c}, timeout={rng.randint(1, 60)}.5)  # retry on error",
            f"git commit -m \"fix {a} when {b} is empty\" && git push origin main",
        ))
    if kind == "numbers":
        return rng.choice((
            f"Card {_luhn_card(rng)} exp {rng.randint(1, 12):02d}/{rng.randint(27, 31)}",
            f"Total: ${rng.randint(1, 99999):,}.{rng.randint(0, 99):02d} "
            f"(VAT {rng.randint(5, 25)}%)",
            f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
            f"INFO worker {rng.randint(1, 64)} done in {rng.randint(1, 9999)} ms",
            f"IBAN GB{rng.randint(10, 99)} WEST {rng.randint(1000, 9999)} "
            f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
            f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}  "
            f"order #{rng.randint(10000, 99999)}  qty {rng.randint(1, 40)}",
        ))
    if kind == "paths":
        return rng.choice((
            f"https://docs.example.org/{_ident(rng)}/{_ident(rng)}?id={rng.randint(1, 9999)}",
            f"/home/anna/Projects/{_ident(rng)}/src/{_ident(rng)}.py",
            f"{_ident(rng).replace('_', '.')}@example.com",
            f"C:\\Users\\Anna\\Documents\\{_ident(rng)}\\report-{rng.randint(1, 99)}.xlsx",
        ))
    alnum = string.ascii_uppercase + string.digits
    mixed = string.ascii_letters + string.digits
    return rng.choice((
        "AKIA" + "".join(rng.choice(alnum) for _ in range(16)),
        "ghp_" + "".join(rng.choice(mixed) for _ in range(36)),
        "sk-" + "".join(rng.choice(mixed) for _ in range(40)),
        "xoxb-" + "-".join("".join(rng.choice(string.digits) for _ in range(11))
                           for _ in range(2)),
    ))


def render(text: str, font_path: Path, size: int, dark: bool) -> np.ndarray:
    font = ImageFont.truetype(str(font_path), size)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    fg, bg = ((220, 220, 220), (30, 30, 34)) if dark else ((25, 25, 25), (252, 252, 250))
    image = Image.new("RGB", (int(x1 - x0) + 40, int(y1 - y0) + 24), bg)
    ImageDraw.Draw(image).text((20 - x0, 12 - y0), text, fill=fg, font=font)
    return np.asarray(image)[:, :, ::-1].copy()  # BGR, as the OCR reads frames


def dataset(per_cell: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    words = _prose_words()
    fonts = [d / f for f in FONTS for d in FONT_DIRS if (d / f).exists()]
    items = []
    for font in fonts:
        for size in SIZES:
            for k in range(per_cell):
                kind = KINDS[k % len(KINDS)]
                items.append({"text": make_line(kind, rng, words), "kind": kind,
                              "font": font.stem, "size": size, "dark": k % 3 == 2,
                              "path": font})
    return items


REPEATS = ("Card number: 4111 1111 1111 1111 exp 12/28", "Mastercard 5555 5555 5555 4444 CVC 737",
           "Account 0000 1111 2222 3333 balance 1,000,000.00", "IBAN DE89 3704 0044 0532 0130 00",
           "AKIAAAAAAAAAAAAAAAAA secret key", "total ======== 100% ........ done",
           "ghp_aaaabbbbccccddddeeeeffff1111222233334444",
           "MMMMMMMMMM wwwwwwww llllllll iiiiiiii")


def compare_on_repeats(models: dict[str, object]) -> dict:
    from core.ppocr import PpOcr, crop_box

    model = models["latin"]
    plain = PpOcr(rec_batch=1, rec_model=model, rec_squeeze=1.0,  # type: ignore[arg-type]
                  limit_type="max", limit_side_len=2000).load()
    narrowing = PpOcr(rec_batch=1, rec_model=model, rec_squeeze=None,  # type: ignore[arg-type]
                      limit_type="max", limit_side_len=2000).load()
    fonts = [d / f for f in ("DejaVuSans.ttf", "DejaVuSansMono.ttf") for d in FONT_DIRS
             if (d / f).exists()]
    lines = changed = wrong_plain = wrong_narrowed = 0
    for font in [None, *fonts]:
        for size in (12, 14, 16, 18, 22):
            face = ImageFont.load_default(size=size) if font is None \
                else ImageFont.truetype(str(font), size)
            for text in REPEATS:
                x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(
                    (0, 0), text, font=face)
                image = Image.new("RGB", (int(x1 - x0) + 40, int(y1 - y0) + 24), "white")
                ImageDraw.Draw(image).text((20 - x0, 12 - y0), text, fill="black", font=face)
                array = np.asarray(image)[:, :, ::-1].copy()
                crops = [crop_box(array, det.box) for det in plain.detect(array)]
                a = " ".join(t for t, _ in plain.recognize(crops))
                b = " ".join(t for t, _ in narrowing.recognize(crops))
                lines += 1
                changed += a != b
                wrong_plain += a != text
                wrong_narrowed += b != text
    out = {"lines": lines, "readings_changed_by_narrowing": changed,
           "wrong_as_is": wrong_plain, "wrong_narrowed": wrong_narrowed}
    print(out)
    return out


def screenagent_crops(n: int, seed: int = 3) -> list[np.ndarray]:
    """Detected line crops (BGR) of ``n`` ScreenAgent screenshots chosen at random."""
    from core.ppocr import PpOcr, crop_box

    root = SHARED_EVAL / "screenagent_test" / "sessions"
    images = sorted(root.glob("*/images/*.jpg"))
    if not images:
        raise SystemExit(f"no ScreenAgent screenshots under {root}")
    random.Random(seed).shuffle(images)
    detector = PpOcr(limit_type="max", limit_side_len=2000, rec_batch=1).load()
    crops = []
    for path in images[:n]:
        array = np.asarray(Image.open(path).convert("RGB"))[:, :, ::-1].copy()
        crops += [crop_box(array, det.box) for det in detector.detect(array)]
    return crops


def compare_on_screenshots(n: int, variants: list[str], models: dict[str, object]) -> dict:
    from core.ppocr import PpOcr

    crops = screenagent_crops(n)
    reference = [t for t, _ in PpOcr(rec_batch=1).load().recognize(crops)]
    chars = sum(len(t) for t in reference)
    out: dict[str, object] = {"screenshots": n, "lines": len(crops)}
    for variant in variants:
        name, _, squeeze = variant.partition("@")
        model = models[name] if name in models else Path(name)
        engine = PpOcr(rec_batch=1, rec_model=model,  # type: ignore[arg-type]
                       rec_squeeze=None if squeeze == "auto" else float(squeeze or 1)).load()
        cpu = time.process_time()
        read = [t for t, _ in engine.recognize(crops)]
        spent = time.process_time() - cpu
        differ = sum(levenshtein(a, b) for a, b in zip(reference, read, strict=True))
        same = sum(a == b for a, b in zip(reference, read, strict=True))
        out[variant] = {"cpu_s": round(spent, 2),
                        "chars_differing_from_float": round(differ / max(1, chars), 4),
                        "lines_identical": same}
        print(f"{variant:14s} CPU {spent:6.2f} s  differ from float {differ / chars:.4f}  "
              f"identical {same}/{len(crops)}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="float@1,latin@1,latin@0.85,latin@0.75")
    parser.add_argument("--per-cell", type=int, default=10, help="lines per font and size")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeats", action="store_true",
                        help="lines of repeated characters, read with and without narrowing")
    parser.add_argument("--screenagent", type=int, default=0, metavar="N",
                        help="compare with the float model on N real screenshots instead")
    args = parser.parse_args()

    from core.inference import use_background_inference
    from core.ocr_int8 import int8_recognizer
    from core.ppocr import PpOcr, crop_box

    use_background_inference()
    models = {"float": None, "int8": int8_recognizer(scripts="all"),
              "latin": int8_recognizer(scripts="latin")}
    if args.repeats:
        data = compare_on_repeats(models)
        out = args.out or ROOT / "bench/results/ocr_repeats.json"
        out.write_text(json.dumps(data, indent=1) + "\n")
        return
    if args.screenagent:
        data = compare_on_screenshots(args.screenagent, args.variants.split(","), models)
        out = args.out or ROOT / "bench/results/ocr_screenagent.json"
        out.write_text(json.dumps(data, indent=1) + "\n")
        return
    items = dataset(args.per_cell, args.seed)
    detector = PpOcr(limit_type="max", limit_side_len=2000, rec_batch=1).load()
    crops: list[np.ndarray] = []
    owner: list[int] = []
    for n, item in enumerate(items):
        image = render(str(item["text"]), Path(str(item["path"])), int(item["size"]),
                       bool(item["dark"]))
        for det in detector.detect(image):
            crops.append(crop_box(image, det.box))
            owner.append(n)
    print(f"{len(items)} lines, {len(crops)} detected boxes", flush=True)
    results: dict[str, object] = {}
    for variant in args.variants.split(","):
        name, _, squeeze = variant.partition("@")
        model = models[name] if name in models else Path(name)  # a file to compare
        engine = PpOcr(rec_batch=1, rec_model=model, limit_type="max",
                       limit_side_len=2000,
                       rec_squeeze=None if squeeze == "auto" else float(squeeze or 1)).load()
        cpu = time.process_time()
        read = engine.recognize(crops)
        spent = time.process_time() - cpu
        texts: list[list[str]] = [[] for _ in items]
        for n, (text, _score) in zip(owner, read, strict=True):
            texts[n].append(text)
        errors: dict[str, list[int]] = {}
        exact = 0
        total_err = total_len = 0
        for item, parts in zip(items, texts, strict=True):
            ref = " ".join(str(item["text"]).split())
            hyp = " ".join(" ".join(parts).split())
            err = levenshtein(ref, hyp)
            exact += err == 0
            total_err += err
            total_len += len(ref)
            for key in (f"kind:{item['kind']}", f"font:{item['font']}", f"size:{item['size']}"):
                e = errors.setdefault(key, [0, 0])
                e[0] += err
                e[1] += len(ref)
        results[variant] = {
            "cpu_s": round(spent, 2), "cer": round(total_err / total_len, 4),
            "exact_lines": exact, "lines": len(items),
            "cer_by": {k: round(e / max(1, n), 4) for k, (e, n) in sorted(errors.items())}}
        print(f"{variant:14s} CPU {spent:6.2f} s  CER {total_err / total_len:.4f}  "
              f"exact {exact}/{len(items)}", flush=True)
    out = args.out or ROOT / "bench/results/ocr_lines.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"lines": len(items), "boxes": len(crops),
                               "variants": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
