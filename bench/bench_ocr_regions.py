"""Region OCR against full-frame OCR on rendered 1920x1080 traces (same run, same engine).

    PYTHONPATH=. .venv/bin/python -m bench.bench_ocr_regions --frames 6

Traces (bench/traces.py): unchanged screen, typing into a document, scrolling a document,
alt-tab between three windows. For every frame the full-frame baseline reads the whole
frame; the region path (core/capture/region_ocr.py) reads what changed. CPU is
``time.process_time`` of the OCR call with onnxruntime on one thread (so CPU = wall on one
core). The final texts are compared by character error rate (Levenshtein distance / length
of the full-frame text). Results go to bench/results/ocr_regions.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.bench_ocr_engine import cer
from bench.traces import (
    DesktopRenderer,
    scrolling_trace,
    typing_trace,
    unchanged_trace,
    window_switch_trace,
)
from core.capture.region_ocr import RegionOcr, reading_order
from core.capture.regions import changed_boxes, downscale
from core.ocr import RapidOcrEngine

RESULTS = Path(__file__).with_name("results") / "ocr_regions.json"


def run_trace(name: str, frames, engine: RapidOcrEngine, full_every: bool) -> dict:
    region = RegionOcr(engine)
    region_cpu: list[float] = []
    full_cpu: list[float] = []
    modes: list[str] = []
    region_text = full_text = ""
    for k, img in enumerate(frames):
        t0 = time.process_time()
        got = region.recognize(img, key="1")
        region_cpu.append(time.process_time() - t0)
        modes.append(region.stats.last_mode)
        region_text = got.text
        if full_every or k in (0, len(frames) - 1):
            t0 = time.process_time()
            full = engine.recognize(img)
            full_cpu.append(time.process_time() - t0)
            full_text = "\n".join(line.text for line in reading_order(full.lines))
        print(f"  {name} frame {k}: region {region_cpu[-1]:.2f}s ({modes[-1]}), "
              f"full {full_cpu[-1]:.2f}s", flush=True)
    # the first frame of a trace is a full read for both paths; the trace cost after it is
    # what region OCR changes
    region_after = sum(region_cpu[1:])
    full_after = (sum(full_cpu[1:]) if full_every
                  else statistics.mean(full_cpu) * (len(frames) - 1))
    return {
        "frames": len(frames), "modes": modes,
        "region_cpu_s": [round(x, 3) for x in region_cpu],
        "full_cpu_s": [round(x, 3) for x in full_cpu],
        "region_cpu_after_first_s": round(region_after, 3),
        "full_cpu_after_first_s": round(full_after, 3),
        "ratio": round(full_after / region_after, 2) if region_after > 0 else None,
        "region_cpu_per_frame_ms": round(1000 * region_after / max(1, len(frames) - 1), 1),
        "full_cpu_per_frame_ms": round(1000 * full_after / max(1, len(frames) - 1), 1),
        "final_cer": round(cer(full_text, region_text), 4),
        "final_lines": [len(region_text.splitlines()), len(full_text.splitlines())],
    }


def change_detection_ms(renderer: DesktopRenderer, repeats: int = 50) -> dict:
    a, b = typing_trace(renderer, 2)
    down, comp = [], []
    small_a = downscale(a)
    for _ in range(repeats):
        t0 = time.perf_counter()
        small_b = downscale(b)
        t1 = time.perf_counter()
        changed_boxes(small_a, small_b)
        t2 = time.perf_counter()
        down.append(1000 * (t1 - t0))
        comp.append(1000 * (t2 - t1))
    return {"downscale_ms_median": round(statistics.median(down), 3),
            "compare_and_boxes_ms_median": round(statistics.median(comp), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--baseline", action="store_true",
                        help="the OpenCV-based RapidOCR pipeline the app used before "
                             "(bench/rapidocr_baseline.py); results to ocr_regions_baseline.json")
    args = parser.parse_args()
    renderer = DesktopRenderer()
    if args.baseline:
        from bench.rapidocr_baseline import RapidOcrBaseline

        engine: RapidOcrEngine = RapidOcrBaseline(native_det=True, threads=1)  # type: ignore[assignment]
    else:
        from core.ocr import ocr_scripts

        # the recogniser the service picks here (ocr.scripts = "auto")
        engine = RapidOcrEngine(native_det=True, threads=1, scripts=ocr_scripts("auto"))
    engine.recognize(unchanged_trace(renderer, 1)[0])  # load the models outside the timing
    name = ("RapidOCR 3.10 pipeline (OpenCV)" if args.baseline
            else "PP-OCRv6 small via core/ppocr.py (no OpenCV)")
    out: dict = {"screen": "1920x1080", "engine": f"{name}, 1 thread",
                 "recognizer": getattr(engine, "recognizer", ""),
                 "change_detection": change_detection_ms(renderer), "traces": {}}
    traces = {
        "unchanged": (unchanged_trace(renderer, args.frames), False),
        "typing": (typing_trace(renderer, args.frames), True),
        "scrolling": (scrolling_trace(renderer, args.frames), True),
        "window_switch": (window_switch_trace(renderer, args.frames), True),
    }
    for name, (frames, full_every) in traces.items():
        out["traces"][name] = run_trace(name, frames, engine, full_every)
    changing = [out["traces"][n] for n in ("typing", "scrolling", "window_switch")]
    region_total = sum(t["region_cpu_after_first_s"] for t in changing)
    full_total = sum(t["full_cpu_after_first_s"] for t in changing)
    out["combined_typing_scrolling_switch"] = {
        "region_cpu_s": round(region_total, 3), "full_cpu_s": round(full_total, 3),
        "ratio": round(full_total / region_total, 2)}
    RESULTS.parent.mkdir(exist_ok=True)
    target = RESULTS.with_name("ocr_regions_baseline.json") if args.baseline else RESULTS
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
