"""The OpenCV-free OCR engine (core/ppocr.py behind core.ocr.RapidOcrEngine) against the
RapidOCR pipeline it replaces (bench/rapidocr_baseline.py), same models, same run.

    PYTHONPATH=. .venv/bin/python -m bench.bench_ocr_engine --frames 3 --repeats 2

1. **Text**: every frame of the rendered traces (bench/traces.py: unchanged, typing,
   scrolling, window switch; 1920x1080) and a grab of the dense two-editor desktop
   (bench/desktop_session.py under Xvfb) read by both engines with the capture service's
   options (native-scale detection in 384-px bands, one line per batch, one thread) and, on
   a few frames, with the CLI/GUI defaults. CER = Levenshtein distance between the two
   reading-order texts / length of the old one.
2. **CPU and memory**: a bare process per engine and repeat (old and new alternate) loads
   the OCR in the service's background mode and reads the dense frame once: CPU seconds of
   the read (``time.process_time``), peak RSS (VmHWM), RSS after loading, and whether
   cv2 was imported.

The desktop grab is synthetic text, written to a temporary folder for the child processes
and deleted. Results go to bench/results/ocr_engine.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results") / "ocr_engine.json"
SERVICE_OPTIONS = {"native_det": True, "det_band_px": 384, "rec_batch": 1}


def levenshtein(reference: str, hypothesis: str) -> int:
    """Edit distance, one numpy row per reference character."""
    hyp = np.frombuffer(hypothesis.encode("utf-32-le"), dtype=np.uint32)
    ref = np.frombuffer(reference.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(hyp) + 1)
    prev = idx.copy()
    for i, code in enumerate(ref.tolist(), 1):
        sub = prev[:-1] + (hyp != code)
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, sub)
        # insertions: cur[j] = min over k <= j of cur[k] + (j - k)
        cur = np.minimum.accumulate(cur - idx) + idx
        prev = cur
    return int(prev[-1])


def cer(reference: str, hypothesis: str) -> float:
    """Levenshtein distance / len(reference)."""
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return levenshtein(reference, hypothesis) / len(reference)


def _text(result) -> str:
    from core.capture.region_ocr import reading_order

    return "\n".join(line.text for line in reading_order(result.lines))


def _changed_lines(old: str, new: str, limit: int = 6) -> list[list[str]]:
    """The lines that differ, old then new (synthetic benchmark text)."""
    import difflib

    out: list[list[str]] = []
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag != "equal":
            out.append(["\n".join(old.splitlines()[i0:i1]), "\n".join(new.splitlines()[j0:j1])])
    return out[:limit]


def engines(options: dict, threads: int = 1):
    from bench.rapidocr_baseline import RapidOcrBaseline
    from core.ocr import RapidOcrEngine

    return (RapidOcrBaseline(threads=threads, **options),
            RapidOcrEngine(threads=threads, **options))


def compare_text(frames: dict[str, list[Image.Image]], options: dict) -> dict:
    old, new = engines(options)
    rows = []
    for name, images in frames.items():
        for k, image in enumerate(images):
            t0 = time.process_time()
            a = old.recognize(image)
            t1 = time.process_time()
            b = new.recognize(image)
            t2 = time.process_time()
            ta, tb = _text(a), _text(b)
            rows.append({"frame": f"{name}[{k}]", "cer": round(cer(ta, tb), 5),
                         "same_text": ta == tb, "chars": len(ta),
                         "changed_lines": _changed_lines(ta, tb),
                         "lines_old_new": [len(a.lines), len(b.lines)],
                         "cpu_s_old_new": [round(t1 - t0, 2), round(t2 - t1, 2)]})
            print(f"  {rows[-1]}", flush=True)
    chars = sum(r["chars"] for r in rows)
    return {"frames": rows,
            "max_cer": max(r["cer"] for r in rows),
            "weighted_cer": round(sum(r["cer"] * r["chars"] for r in rows) / max(1, chars), 5),
            "identical_frames": sum(r["same_text"] for r in rows), "n_frames": len(rows),
            "cpu_s_old": round(sum(r["cpu_s_old_new"][0] for r in rows), 2),
            "cpu_s_new": round(sum(r["cpu_s_old_new"][1] for r in rows), 2)}


def grab_dense_desktop() -> Image.Image:
    from core.capture.screen import MssScreenSource
    from tests.integration.xenv import XSession

    with XSession.start() as session:
        env = {**os.environ, "DISPLAY": session.display, "QT_QPA_PLATFORM": "xcb"}
        desk = subprocess.Popen([sys.executable, str(REPO / "bench" / "desktop_session.py")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            assert desk.stdout is not None
            desk.stdout.readline()
            time.sleep(3)  # both windows mapped and painted; typing has started
            source = MssScreenSource(display=session.display)
            try:
                return source.grab_all()[0].image
            finally:
                source.close()
        finally:
            desk.terminate()
            desk.wait(10)


def child(kind: str, image_path: str) -> None:
    """One bare process: load the engine in the service's mode, read the frame once."""
    from core.inference import use_background_inference

    use_background_inference(True)
    image = Image.open(image_path).convert("RGB")
    if kind == "old":
        from bench.rapidocr_baseline import RapidOcrBaseline

        engine = RapidOcrBaseline(**SERVICE_OPTIONS)
    else:
        from core.ocr import RapidOcrEngine

        engine = RapidOcrEngine(**SERVICE_OPTIONS)  # type: ignore[assignment]
    t0 = time.process_time()
    engine._load()
    load_cpu = time.process_time() - t0
    rss_loaded = _rss_mb()
    t0 = time.process_time()
    result = engine.recognize(image)
    read_cpu = time.process_time() - t0
    rss_read = _rss_mb()
    from core.memtrim import return_freed_memory

    return_freed_memory()  # what the service does after every frame
    print(json.dumps({
        "engine": kind, "read_cpu_s": round(read_cpu, 2), "load_cpu_s": round(load_cpu, 2),
        "rss_after_load_mb": round(rss_loaded), "rss_after_read_mb": round(rss_read),
        "rss_after_trim_mb": round(_rss_mb()),
        "peak_rss_mb": round(_status_mb("VmHWM")),
        "lines": len(result.lines), "cv2_imported": "cv2" in sys.modules}))


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    """A /proc/self/status memory figure in MB. VmHWM (peak RSS) belongs to this process's
    address space; ``ru_maxrss`` would also count the parent's peak before exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_and_memory(image_path: Path, repeats: int) -> dict:
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(repeats):
        for kind in ("old", "new"):
            out = subprocess.run([sys.executable, "-m", "bench.bench_ocr_engine", "--child", kind,
                                  "--image", str(image_path)], cwd=REPO, env=env, check=True,
                                 capture_output=True, text=True)
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {runs[kind][-1]}", flush=True)
    summary = {}
    for kind, rows in runs.items():
        summary[kind] = {key: round(float(np.mean([r[key] for r in rows])), 2)
                         for key in ("read_cpu_s", "load_cpu_s", "peak_rss_mb",
                                     "rss_after_load_mb", "rss_after_read_mb",
                                     "rss_after_trim_mb")}
        summary[kind]["peak_rss_mb_min_max"] = [min(r["peak_rss_mb"] for r in rows),
                                                max(r["peak_rss_mb"] for r in rows)]
        summary[kind]["cv2_imported"] = rows[0]["cv2_imported"]
    summary["read_cpu_ratio_new_over_old"] = round(
        summary["new"]["read_cpu_s"] / summary["old"]["read_cpu_s"], 3)
    return {"runs": runs, "mean": summary}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=("old", "new"))
    parser.add_argument("--image")
    parser.add_argument("--process-only", action="store_true",
                        help="only part 2 (CPU and memory); results to ocr_engine_process.json")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.image)
        return
    from bench.traces import (
        DesktopRenderer,
        scrolling_trace,
        typing_trace,
        unchanged_trace,
        window_switch_trace,
    )

    renderer = DesktopRenderer()
    dense = grab_dense_desktop()
    frames: dict[str, list[Image.Image]] = {} if args.process_only else {
        "unchanged": unchanged_trace(renderer, 1),
        "typing": typing_trace(renderer, args.frames),
        "scrolling": scrolling_trace(renderer, args.frames),
        "window_switch": window_switch_trace(renderer, args.frames),
        "dense_desktop": [dense],
    }
    out: dict = {"load_average_start": os.getloadavg()}
    if not args.process_only:
        print("text, service options", flush=True)
        out["text_service_options"] = compare_text(frames, SERVICE_OPTIONS)
        print("text, CLI/GUI defaults", flush=True)
        out["text_default_options"] = compare_text(
            {"typing": frames["typing"][:1], "dense_desktop": [dense]}, {})
    tmp = Path(tempfile.mkdtemp(prefix="aibench-ocr-"))
    try:
        path = tmp / "dense.png"
        dense.save(path)
        print("CPU and memory, one bare process per read", flush=True)
        out["dense_frame_process"] = cpu_and_memory(path, args.repeats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_average_end"] = os.getloadavg()
    RESULTS.parent.mkdir(exist_ok=True)
    target = RESULTS.with_name("ocr_engine_process.json") if args.process_only else RESULTS
    target.write_text(json.dumps(out, indent=2) + "\n")
    summary = {k: v for k, v in out.items() if k not in ("text_service_options",
                                                         "text_default_options",
                                                         "dense_frame_process")}
    for key in ("text_service_options", "text_default_options"):
        if key in out:
            summary[key] = {k: v for k, v in out[key].items() if k != "frames"}
    summary["dense_frame_process"] = out["dense_frame_process"]["mean"]
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
