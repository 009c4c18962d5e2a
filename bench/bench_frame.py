"""Per-frame cost of the capture path on a 1920x1080 Xvfb screen.

Stages: grab (mss), difference check (keyed hash of the frame), OCR (RapidOCR),
embedding (MiniLM int8 ONNX), image tiers (thumbnail JPEG + frame WebP) and
encrypt+write (AES-GCM + LanceDB append). Also measured in the same run, as
baselines: the cost of an *unchanged* frame (grab + check, then skipped) against
a changed one, and the stored bytes per memory against the raw PNG of the frame.

    .venv/bin/python -m bench.bench_frame [--frames 6] [--out bench/results/frame.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from core.capture import MssScreenSource, X11WindowInfo
from core.capture_state import CaptureState
from core.config import Config, resolve_paths
from core.embed import MiniLmEmbedder
from core.encode import Moment, MomentEncoder, StageTimes
from core.ocr import RapidOcrEngine
from core.store import EncryptedStore
from core.vault import KdfParams, Vault
from tests.integration.xenv import XSession, open_text_window

PARAGRAPHS = [
    "Quarterly planning notes: revenue grew nine percent in the northern region while "
    "churn fell to two point one percent. Action items: hire two support engineers, "
    "renegotiate the hosting contract, and ship the onboarding redesign before March.",
    "Traceback (most recent call last): File \"server.py\", line 88, in handle_request "
    "response = router.dispatch(request) KeyError: 'session_id' — the login cookie was "
    "dropped by the proxy after the TLS upgrade; retry with the header forwarded.",
    "Lisbon to Oslo, seat 14C, departure 07:45 from terminal 2. Baggage allowance 23 kg. "
    "Hotel: Grand Nordic, check-in after 15:00, breakfast included, free cancellation "
    "until 48 hours before arrival. Reference QX7-22-LKD.",
]


def _ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 1),
            "min_ms": round(min(values) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def run(frames: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="afterimage-bench-"))
    os.environ["AFTERIMAGE_HOME"] = str(work / "home")
    paths = resolve_paths()
    cfg = Config()
    vault = Vault.create(paths.vault_dir, "benchmark passphrase",
                         KdfParams(salt=os.urandom(16), memory_kib=65536, iterations=1))
    store = EncryptedStore(paths.vault_dir / "store", vault)
    state = CaptureState(paths.vault_dir / "state")
    ocr = RapidOcrEngine()
    embedder = MiniLmEmbedder()
    encoder = MomentEncoder(ocr, embedder, cfg.capture)
    embedder.embed(["warm up"])  # load the models outside the timings
    timings: dict[str, list[float]] = {k: [] for k in
                                       ("grab", "check", "ocr", "embed", "images", "write",
                                        "total_changed", "total_unchanged")}
    stored_bytes: list[int] = []
    png_bytes: list[int] = []
    with XSession.start() as session:
        screen = MssScreenSource(session.display)
        windows = X11WindowInfo(session.display)
        last = ""
        for i in range(frames):
            text = PARAGRAPHS[i % len(PARAGRAPHS)] + f" (page {i + 1})"
            with open_text_window(text, f"Document {i + 1} — Editor", display=session.display):
                # A changed frame: the whole path.
                t0 = time.perf_counter()
                frame = screen.grab_all()[0]
                t1 = time.perf_counter()
                digest = state.frame_hash(frame.image)
                changed = digest != last
                t2 = time.perf_counter()
                assert changed
                last = digest
                win = windows.active_window()
                times = StageTimes()
                item = encoder.encode(Moment(image=frame.image, timestamp=frame.captured_at,
                                             app=win.app if win else "",
                                             title=win.title if win else "",
                                             monitor=frame.monitor), times=times)
                before = store.bytes_on_disk()
                t3 = time.perf_counter()
                store.add([item])
                t4 = time.perf_counter()
                stored_bytes.append(store.bytes_on_disk() - before)
                buf = io.BytesIO()
                frame.image.save(buf, format="PNG")
                png_bytes.append(len(buf.getvalue()))
                timings["grab"].append(t1 - t0)
                timings["check"].append(t2 - t1)
                timings["ocr"].append(times.ocr)
                timings["embed"].append(times.embed)
                timings["images"].append(times.images)
                timings["write"].append(t4 - t3)
                timings["total_changed"].append((t2 - t0) + times.ocr + times.embed
                                                + times.images + (t4 - t3))
                # Unchanged frames: grab + check, then skipped.
                for _ in range(5):
                    u0 = time.perf_counter()
                    again = screen.grab_all()[0]
                    same = state.frame_hash(again.image) == last
                    timings["total_unchanged"].append(time.perf_counter() - u0)
                    assert same
        screen.close()
        windows.close()
    vault.close()
    changed = statistics.median(timings["total_changed"])
    unchanged = statistics.median(timings["total_unchanged"])
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "frames": frames,
        "resolution": "1920x1080",
        "stages": {k: _ms(v) for k, v in timings.items()},
        "unchanged_vs_changed_ratio": round(changed / unchanged, 1),
        "stored_bytes_per_memory": int(statistics.median(stored_bytes)),
        "png_bytes_per_frame": int(statistics.median(png_bytes)),
        "stored_vs_png_ratio": round(statistics.median(png_bytes)
                                     / statistics.median(stored_bytes), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--out", default="bench/results/frame.json")
    args = parser.parse_args()
    result = run(args.frames)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
