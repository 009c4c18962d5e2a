"""How this process runs ONNX models: interactive (fast, all cores) or background (polite).

The capture service runs all day next to the user's own work. onnxruntime's defaults suit a
benchmark, not a background process: one intra-op thread per core that *spins* while it
waits for work (burning CPU whenever the machine is busy), and a memory arena that keeps
the peak of the largest input for the life of the session. In background mode every ONNX
session this process builds (OCR detector/classifier/recognizer, the text embedder) uses:

- one intra-op and one inter-op thread, with spinning off;
- no CPU memory arena (freed tensors go back to the allocator; the service trims the heap);
- no memory patterns: onnxruntime otherwise plans one block for all of a run's activations
  per input shape, and OCR lines and embedding batches come in ever new shapes (measured:
  recognising a screenful of lines peaked +174 MB with patterns, +41 MB without, at 4% less
  CPU; docs/benchmarks.md);

and the service lowers its own scheduling priority (:func:`lower_priority`), so the user's
applications win whenever both want the CPU. The GUI and the CLI keep the defaults.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

_log = logging.getLogger(__name__)

# Process-wide: set once by the capture service before any model is loaded.
_state = {"background": False}
_state_lock = threading.Lock()

SERVICE_NICENESS = 10


def use_background_inference(enabled: bool = True) -> None:
    """Make ONNX sessions built from now on use the background settings."""
    with _state_lock:
        _state["background"] = enabled


def background_inference() -> bool:
    return _state["background"]


def session_options(threads: int = 0) -> Any:
    """``onnxruntime.SessionOptions`` for this process's mode (``threads`` > 0 wins)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    configure_session_options(options, threads)
    return options


def configure_session_options(options: Any, threads: int = 0) -> None:
    """Apply the mode to existing ``SessionOptions`` (used for RapidOCR's sessions)."""
    if threads > 0:
        options.intra_op_num_threads = threads
    if background_inference():
        options.intra_op_num_threads = threads if threads > 0 else 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")


def lower_priority(niceness: int = SERVICE_NICENESS) -> int:
    """Raise this process's nice value by ``niceness`` (POSIX); returns the new value, or
    0 where priorities cannot be changed."""
    if not hasattr(os, "nice"):
        return 0
    try:
        return os.nice(niceness)
    except OSError as exc:
        _log.info("could not lower the process priority (%s)", type(exc).__name__)
        return 0
