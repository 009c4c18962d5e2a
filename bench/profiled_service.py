"""`afterimage service` with a CPU profile per thread (for `bench_service.py --profile`).

    PYTHONPATH=. .venv/bin/python -m bench.profiled_service OUT_DIR

Runs the service in this process under cProfile with each thread's own CPU clock
(``time.thread_time``), so a profile shows CPU, not waiting: the main thread (start-up and
the scheduler: grabs, window polls, status) in ``OUT_DIR/main.prof`` and each other thread
(the capture worker: OCR and encoding) in ``OUT_DIR/thread-NAME.prof``, written when the
service stops (SIGTERM). Read them with ``python -m pstats``. cProfile slows pure-Python code
(python-xlib, imports) several times more than native calls (onnxruntime, Pillow), so the
profile says where to look; the benchmark without it gives the figures.
"""

from __future__ import annotations

import cProfile
import sys
import threading
import time
from pathlib import Path


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    plain_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            plain_run(self)
        finally:
            profile.disable()
            profile.dump_stats(out / f"thread-{self.name}.prof")

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    from app.cli import main as cli_main

    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    try:
        # the service re-executes itself once (malloc settings): the same argv comes back here
        return cli_main(["service"])
    finally:
        profile.disable()
        profile.dump_stats(out / "main.prof")


if __name__ == "__main__":
    sys.exit(main())
