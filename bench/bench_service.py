"""CPU and memory of `afterimage service` over a scripted desktop session on Xvfb.

    PYTHONPATH=. .venv/bin/python -m bench.bench_service --minutes 10

Starts Xvfb (1920x1080) + openbox, the scripted session (bench/desktop_session.py: typing,
reading, scrolling, window switches), a fresh vault, and the service at the default schedule.
Samples the service's CPU time (utime+stime from /proc), RSS and the machine's 1-minute load
average every 5 s. CPU is reported as % of one core: CPU seconds / wall seconds, and per
stored frame (on a shared machine the service gets less wall time and drops more frames, so
CPU seconds per frame is the figure that compares across runs).
Results: bench/results/service.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.integration.xenv import XSession
from tests.support import CHEAP_KDF_ENV, REPO, run_cli

RESULTS = Path(__file__).with_name("results") / "service.json"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--no-narrow", action="store_true",
                        help="the service reads every line at its own aspect "
                             "(ocr.narrow_wide_text = false), for a same-session baseline")
    parser.add_argument("--bundled-embedder", action="store_true",
                        help="the service embeds with the bundled MiniLM, not the copy with "
                             "8-bit matrix products (core/embed_int8.py), for a same-session "
                             "baseline: the copy's manifest is set aside during the run")
    parser.add_argument("--assets", type=Path, default=None,
                        help="another assets folder for the service (AFTERIMAGE_ASSETS), e.g. "
                             "one holding an earlier derived recogniser, for a same-session "
                             "baseline")
    parser.add_argument("--profile", type=Path, default=None,
                        help="run the service under a CPU profile per thread "
                             "(bench/profiled_service.py), written to this folder; its CPU "
                             "figures are then inflated by the profiler")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from core.embed_int8 import MANIFEST_FILE, derived_embedder

    derived = derived_embedder()
    if args.bundled_embedder and derived is not None:
        manifest = derived.with_name(MANIFEST_FILE)
        aside = manifest.with_suffix(".bench-aside")
        manifest.rename(aside)
        try:
            run(args, embedder="bundled")
        finally:
            aside.rename(manifest)
    else:
        run(args, embedder="bundled" if derived is None else "8-bit matmul (derived)")


def run(args: argparse.Namespace, *, embedder: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="aibench-"))
    home = tmp / "home"
    assert run_cli(home, "init").code == 0
    with XSession.start() as session:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERIMAGE_")}
        env.update(CHEAP_KDF_ENV)
        env.update({"AFTERIMAGE_HOME": str(home), "DISPLAY": session.display,
                    "QT_QPA_PLATFORM": "xcb"})
        desk = subprocess.Popen([sys.executable, str(REPO / "bench" / "desktop_session.py")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert desk.stdout is not None
        desk.stdout.readline()
        # Xvfb has no input devices: without this the user would count as idle after 2 min
        env["AFTERIMAGE_CAPTURE__IDLE_AFTER_S"] = "0"
        if args.no_narrow:
            env["AFTERIMAGE_OCR__NARROW_WIDE_TEXT"] = "false"
        if args.assets is not None:
            env["AFTERIMAGE_ASSETS"] = str(args.assets.resolve())
        command = [sys.executable, "-m", "app", "service"] if args.profile is None else \
            [sys.executable, "-m", "bench.profiled_service", str(args.profile.resolve())]
        svc = subprocess.Popen(command, cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples = []
        start = time.monotonic()
        try:
            while time.monotonic() - start < args.minutes * 60:
                time.sleep(5)
                samples.append((time.monotonic() - start, cpu_seconds(svc.pid),
                                rss_mb(svc.pid), os.getloadavg()[0], rss_mb(svc.pid, "VmHWM")))
        finally:
            # the true peak (the kernel's high-water mark), not only the 5-s samples
            peak = rss_mb(svc.pid, "VmHWM") if svc.poll() is None else None
            svc.terminate()
            svc.wait(60)
            desk.terminate()
            desk.wait(10)
    status = json.loads((home / "run" / "service-status.json").read_text())
    # the service's own content-free log: CPU of each processed frame on its worker thread
    frames = []
    for path in sorted(home.rglob("afterimage.log*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if "frame(s) processed in" in line:
                words = line.split()
                frames.append({"at": words[1][:8],
                               "cpu_s": float(words[words.index("CPU") - 1]),
                               "ocr": words[words.index("(ocr:") + 1].rstrip("),")})
    wall = samples[-1][0]
    cpu = samples[-1][1]
    # steady state: after the models are loaded (first minute excluded)
    steady = [s for s in samples if s[0] >= 60]
    steady_cpu = (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0]) \
        if len(steady) > 1 else None
    loads = [s[3] for s in samples]
    captured = status["frames_captured"]
    data = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_1min_mean": round(sum(loads) / len(loads), 2),
        "loadavg_1min_min_max": [round(min(loads), 2), round(max(loads), 2)],
        "minutes": round(wall / 60, 2), "cpu_seconds": round(cpu, 1),
        "cpu_seconds_per_stored_frame": round(cpu / captured, 2) if captured else None,
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "cpu_percent_after_first_minute": round(100 * steady_cpu, 2) if steady_cpu else None,
        "rss_mb_max": round(max(s[2] for s in samples), 1),
        "rss_mb_mean": round(sum(s[2] for s in samples) / len(samples), 1),
        "rss_mb_peak_hwm": round(peak, 1) if peak is not None else None,
        "frames_captured": status["frames_captured"], "frames_skipped": status["frames_skipped"],
        "rss_mb_samples": [round(s[2]) for s in samples[:: max(1, len(samples) // 20)]],
        # when the high-water mark was reached: the first 5-s sample that shows it
        "rss_mb_peak_reached_at_s": next((round(s[0]) for s in samples
                                          if peak is not None and s[4] >= peak - 0.5), None),
        "rss_mb_hwm_steps": [[round(b[0]), round(b[4])] for a, b in zip(samples, samples[1:],
                                                                      strict=False)
                             if b[4] - a[4] >= 1],
        # CPU seconds used in each 30 s of the session (where the work goes: first read,
        # typing, reading, scrolling, switching)
        "cpu_s_per_30s": [round(b[1] - a[1], 1) for a, b in zip(samples[::6], samples[6::6],
                                                               strict=False)],
        "frames_processed": frames,
        "cpu_s_processing_frames": round(sum(f["cpu_s"] for f in frames), 1),
    }
    data["narrow_wide_text"] = not args.no_narrow
    data["profiled"] = args.profile is not None
    data["assets"] = str(args.assets) if args.assets is not None else "repository"
    data["text_embedder"] = embedder
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
