"""Record the scripted desktop session once, then replay it through the service's capture
policy offline: where does the OCR CPU of a session go, and what would a change save?

    PYTHONPATH=. .venv/bin/python -m bench.replay_session record --seconds 300 --out /tmp/sess
    PYTHONPATH=. .venv/bin/python -m bench.replay_session replay /tmp/sess [--hold 20]

``record`` runs Xvfb + openbox + bench/desktop_session.py (synthetic text, no user content)
and grabs the screen and the window stack every 3 s, like the service's schedule. ``replay``
feeds the grabs through the same unchanged check, coalescer (core/capture/coalesce.py) and
region OCR (core/capture/region_ocr.py, the service's RapidOCR settings) and reports the OCR
CPU seconds per stored frame and per mode (full read, regions, reused, scrolled).
The service benchmark (bench/bench_service.py) stays the figure of record.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from tests.integration.xenv import XSession
from tests.support import REPO


def record(out: Path, seconds: float, interval: float) -> None:
    from core.capture import X11WindowInfo
    from core.capture.screen import MssScreenSource

    out.mkdir(parents=True, exist_ok=True)
    with XSession.start() as session:
        env = dict(os.environ, DISPLAY=session.display, QT_QPA_PLATFORM="xcb")
        desk = subprocess.Popen([sys.executable, str(REPO / "bench" / "desktop_session.py")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert desk.stdout is not None
        desk.stdout.readline()
        screen = MssScreenSource(session.display)
        windows = X11WindowInfo(session.display)
        meta = []
        start = time.monotonic()
        n = 0
        try:
            while time.monotonic() - start < seconds:
                t = time.monotonic() - start
                frame = screen.grab_all()[0]
                active = windows.active_window()
                stack = [(w.title, w.left, w.top, w.width, w.height)
                         for w in windows.visible_windows()]
                frame.image.save(out / f"{n:04d}.png")
                meta.append({"t": round(t, 2), "title": active.title if active else None,
                             "stack": stack})
                n += 1
                time.sleep(max(0.0, start + n * interval - time.monotonic()))
        finally:
            desk.terminate()
            desk.wait(10)
            screen.close()
            windows.close()
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    print(f"recorded {n} grabs in {out}")


def replay(folder: Path, hold: float, pieces: bool, scripts: str = "auto",
           narrow: bool = True, plain: bool = True) -> dict[str, object]:
    from core.capture.coalesce import Coalescer
    from core.capture.layout import visible_pieces
    from core.capture.region_ocr import RegionOcr
    from core.capture.regions import downscale
    from core.config import OcrConfig
    from core.inference import use_background_inference
    from core.memtrim import return_freed_memory
    from core.service import SERVICE_DET_BAND_PX, service_ocr
    from core.types import ActiveWindow, MonitorGeometry, ScreenFrame

    use_background_inference()
    meta = json.loads((folder / "meta.json").read_text())
    band = int(os.environ.get("REPLAY_BAND_PX", SERVICE_DET_BAND_PX))
    engine = service_ocr(OcrConfig(scripts=scripts, narrow_wide_text=narrow,
                                   plain_text_lines=plain), det_band_px=band)
    engine._load()
    print("loaded: rss", next(int(x.split()[1]) // 1024 for x in
                             Path("/proc/self/status").read_text().splitlines()
                             if x.startswith("VmRSS")), "MB", flush=True)
    region = RegionOcr(engine)
    coalescer = Coalescer(hold)
    monitor = MonitorGeometry(index=1, left=0, top=0, width=1920, height=1080)
    last = None
    per_mode: dict[str, list[float]] = {}
    stored = 0
    for i, item in enumerate(meta):
        image = Image.open(folder / f"{i:04d}.png").convert("RGB")
        small = downscale(image)
        changed = last is None or not (last == small).all()
        last = small
        stack = [ActiveWindow(app="editor", title=t, left=x, top=y, width=w, height=h)
                 for t, x, y, w, h in item["stack"]]
        cut = visible_pieces(stack, monitor, image.size) if pieces else ()
        frame = ScreenFrame(image=image, monitor=monitor, captured_at=None,  # type: ignore[arg-type]
                            pieces=cut)
        release = coalescer.offer(item["t"], [frame] if changed else [],
                                  [] if changed else [1], None, item["title"])
        for frames, _window in release.groups:
            for f in frames:
                cpu = time.process_time()
                region.recognize(f.image, key="1", pieces=f.pieces)
                spent = time.process_time() - cpu
                return_freed_memory()  # as the service does after each frame
                mode = region.stats.last_mode
                per_mode.setdefault(mode, []).append(spent)
                stored += 1
                mem = {x.split(":")[0]: int(x.split()[1]) // 1024 for x in
                       Path("/proc/self/status").read_text().splitlines()
                       if x.startswith(("VmRSS", "VmHWM"))}
                print(f"t={item['t']:6.1f} {mode:9s} {spent:6.2f} CPU s  rss {mem['VmRSS']} MB"
                      f"  peak {mem['VmHWM']} MB", flush=True)
    total = sum(sum(v) for v in per_mode.values())
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next((int(x.split()[1]) // 1024 for x in status if x.startswith("VmHWM")), 0)
    result = {"grabs": len(meta), "stored": stored, "hold_s": hold, "pieces": pieces,
              "ocr_cpu_s": round(total, 1),
              "per_mode": {k: {"n": len(v), "cpu_s": round(sum(v), 1)}
                           for k, v in per_mode.items()},
              "peak_rss_mb": peak, "band_px": engine._band, "recognizer": engine.recognizer,
              "plain_text_lines": plain, "detector_px": engine.detector_px,
              "lines_found_from_ink": engine.lines_found_plain,
              "pixels_read_fraction": round(region.stats.pixels_read
                                            / max(1, region.stats.pixels_total), 3)}
    print(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--out", type=Path, required=True)
    rec.add_argument("--seconds", type=float, default=300)
    rec.add_argument("--interval", type=float, default=3.0)
    rep = sub.add_parser("replay")
    rep.add_argument("folder", type=Path)
    rep.add_argument("--hold", type=float, default=20.0)
    rep.add_argument("--no-pieces", action="store_true", help="read each frame whole")
    rep.add_argument("--scripts", choices=("auto", "latin", "all"), default="auto",
                     help="the recogniser's scripts (ocr.scripts; auto as the service)")
    rep.add_argument("--no-plain-lines", action="store_true",
                     help="the detector model finds every line (ocr.plain_text_lines = false)")
    rep.add_argument("--no-narrow", action="store_true",
                     help="read every line at its own aspect (no line_squeeze)")
    args = parser.parse_args()
    if args.cmd == "record":
        record(args.out, args.seconds, args.interval)
    else:
        replay(args.folder, args.hold, not args.no_pieces, args.scripts, not args.no_narrow,
               not args.no_plain_lines)


if __name__ == "__main__":
    main()
