"""Give freed heap memory back to the OS (glibc keeps freed arenas otherwise)."""

from __future__ import annotations

import ctypes
import os
import sys


def return_freed_memory() -> None:
    """``malloc_trim(0)`` on glibc: after a large temporary peak (a full-frame OCR read,
    decrypting and building the search index) RSS would otherwise stay at the peak."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (musl): nothing to trim


# glibc's malloc serves large blocks (OCR activations: tens of MB each, a new shape every
# frame) from the heap once the dynamic mmap threshold has grown, and freed pieces of them
# then fragment it: a frame's reads peaked at about twice the memory they actually held at
# once. A fixed threshold returns every block of 4 MiB or more to the OS when freed; huge
# pages (madvise) keep the page faults of those fresh blocks as cheap as reusing the heap.
# Measured on the recorded session (bench/replay_session.py): peak RSS 421-472 -> 348-393
# MB, the same CPU (docs/benchmarks.md).
MALLOC_TUNABLES = ("glibc.malloc.hugetlb=1", "glibc.malloc.mmap_threshold=4194304")
_TUNED_MARK = "AFTERIMAGE_MALLOC_TUNED"


def tuned_environment(env: dict[str, str]) -> dict[str, str] | None:
    """``env`` with the malloc settings added to GLIBC_TUNABLES (the user's own kept),
    or None when they are already there (or the platform has no glibc)."""
    if not sys.platform.startswith("linux") or env.get(_TUNED_MARK) == "1":
        return None
    current = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    names = {t.split("=", 1)[0] for t in current}
    added = [t for t in MALLOC_TUNABLES if t.split("=", 1)[0] not in names]
    return {**env, "GLIBC_TUNABLES": ":".join(current + added), _TUNED_MARK: "1"}


def restart_with_malloc_tunables() -> None:
    """Replace this process by itself with the malloc settings (glibc reads them only at
    start). Same pid, same arguments; returns only where nothing needs doing."""
    env = tuned_environment(dict(os.environ))
    if env is None:
        return
    if getattr(sys, "frozen", False):
        argv = list(sys.argv)
    else:
        argv = [sys.executable, *sys.orig_argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, argv, env)
    except OSError:
        return  # runs as it is: only the peak memory is higher
