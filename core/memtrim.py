"""Give freed heap memory back to the OS (glibc keeps freed arenas otherwise)."""

from __future__ import annotations

import ctypes
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
