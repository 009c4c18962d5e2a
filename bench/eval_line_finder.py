"""Lines found from their ink (core/linefind.py) against the detector model: same text, less CPU?

``PYTHONPATH=. .venv/bin/python -m bench.eval_line_finder [--screens 40] [--recording DIR]``

Reads the same images twice with the service's OCR engine (native-scale detector in bands,
one line per recognition batch, the recogniser the service picks, no line cache), once with
``plain_text_lines`` on and once off, and compares the texts (character error rate of one
reading against the other, whitespace normalised), the recognition and detection CPU, and how
much of each image the detector model still read. Images:

- real desktop screenshots (third-party, ScreenAgent test split: Windows and Ubuntu desktops,
  1024x768 JPEG), one per session, whole, and four 512x384 crops of each (the size of the
  windows and changed regions the service reads);
- Windrecorder's 1920x1080 en-US render with its ground-truth text (both readings scored
  against it);
- with ``--recording``, the grabs of ``bench/replay_session.py record`` cut into the windows
  the service reads (every 10th grab).

Raw: ``bench/results/line_finder.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from PIL import Image

from bench.bench_ocr_engine import levenshtein

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
RESULTS = ROOT / "bench" / "results" / "line_finder.json"


def _norm(text: str) -> str:
    return " ".join(text.split())


def screenagent_images(n: int, seed: int = 4) -> list[tuple[str, Image.Image]]:
    root = SHARED_EVAL / "screenagent_test" / "sessions"
    sessions = sorted(p for p in root.glob("*") if (p / "images").is_dir())
    if not sessions:
        raise SystemExit(f"no ScreenAgent screenshots under {root}")
    rng = random.Random(seed)
    rng.shuffle(sessions)
    out: list[tuple[str, Image.Image]] = []
    for session in sessions[:n]:
        path = sorted((session / "images").glob("*.jpg"))[0]
        image = Image.open(path).convert("RGB")
        out.append((f"screenagent/{session.name[:8]}", image))
        for k in range(4):
            x = rng.randrange(0, image.width - 512)
            y = rng.randrange(0, image.height - 384)
            out.append((f"screenagent/{session.name[:8]}/crop{k}",
                        image.crop((x, y, x + 512, y + 384))))
    return out


def recording_images(folder: Path) -> list[tuple[str, Image.Image]]:
    from core.capture.layout import visible_pieces
    from core.types import ActiveWindow, MonitorGeometry

    meta = json.loads((folder / "meta.json").read_text())
    monitor = MonitorGeometry(index=1, left=0, top=0, width=1920, height=1080)
    out: list[tuple[str, Image.Image]] = []
    for i in range(0, len(meta), 10):
        image = Image.open(folder / f"{i:04d}.png").convert("RGB")
        stack = [ActiveWindow(app="editor", title=t, left=x, top=y, width=w, height=h)
                 for t, x, y, w, h in meta[i]["stack"]]
        for piece in visible_pieces(stack, monitor, image.size):
            if (piece[2] - piece[0]) * (piece[3] - piece[1]) >= 100_000:
                out.append((f"recording/{i:04d}@{piece}", image.crop(piece)))
    return out


def read_all(images: list[tuple[str, Image.Image]], plain: bool) -> dict[str, object]:
    from core.config import OcrConfig
    from core.service import service_ocr

    engine = service_ocr(OcrConfig(plain_text_lines=plain), line_cache=0)
    engine._load()
    texts: dict[str, str] = {}
    cpu = 0.0
    pixels = 0
    for name, image in images:
        start = time.process_time()
        texts[name] = engine.recognize(image).text
        cpu += time.process_time() - start
        pixels += image.width * image.height
    return {"texts": texts, "cpu_s": round(cpu, 2), "detector_px": engine.detector_px,
            "pixels": pixels, "lines_found_from_ink": engine.lines_found_plain}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--screens", type=int, default=40, help="ScreenAgent sessions")
    parser.add_argument("--recording", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from core.inference import use_background_inference

    use_background_inference()
    sets: dict[str, list[tuple[str, Image.Image]]] = {
        "screenagent": screenagent_images(args.screens)}
    render = SHARED_EVAL / "windrecorder_ocr" / "OCR_test_1080_en-US.png"
    truth_path = SHARED_EVAL / "windrecorder_ocr" / "OCR_test_1080_words_en-US.txt"
    if render.is_file():
        sets["windrecorder"] = [("windrecorder/en-US", Image.open(render).convert("RGB"))]
    if args.recording is not None:
        sets["recording"] = recording_images(args.recording)
    report: dict[str, object] = {}
    for set_name, images in sets.items():
        runs = {mode: read_all(images, mode == "ink") for mode in ("detector", "ink")}
        base, ink = runs["detector"]["texts"], runs["ink"]["texts"]
        assert isinstance(base, dict) and isinstance(ink, dict)
        errors = sum(levenshtein(_norm(base[k]), _norm(ink[k])) for k in base)
        length = sum(len(_norm(base[k])) for k in base)
        worst = sorted(((levenshtein(_norm(base[k]), _norm(ink[k])) / max(1, len(_norm(base[k]))),
                         k) for k in base), reverse=True)[:5]
        entry: dict[str, object] = {
            "images": len(images),
            "cer_ink_vs_detector": round(errors / max(1, length), 4),
            "identical": sum(_norm(base[k]) == _norm(ink[k]) for k in base),
            "worst": [[k, round(c, 3)] for c, k in worst],
        }
        for mode, run in runs.items():
            entry[mode] = {"cpu_s": run["cpu_s"], "lines_found_from_ink":
                           run["lines_found_from_ink"],
                           "detector_share": round(int(run["detector_px"])  # type: ignore[call-overload]
                                                   / max(1, int(run["pixels"])), 3)}  # type: ignore[call-overload]
        if set_name == "windrecorder" and truth_path.is_file():
            truth = _norm(truth_path.read_text(encoding="utf-8"))
            for mode, run in runs.items():
                text = _norm(next(iter(run["texts"].values())))  # type: ignore[attr-defined]
                entry[mode]["cer_vs_truth"] = round(  # type: ignore[index]
                    levenshtein(truth, text) / max(1, len(truth)), 4)
        report[set_name] = entry
        print(set_name, json.dumps(entry), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
