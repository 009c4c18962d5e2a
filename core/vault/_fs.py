"""Owner-only, crash-safe file helpers used by the vault.

Writes go to a temporary file in the same folder, are flushed and fsynced, then
``os.replace``d over the target and the folder is fsynced: a reader sees either
the old or the new content, never a half-written file (also on a full disk).
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from core.errors import StoreError

FILE_MODE = 0o600
DIR_MODE = 0o700


def describe_os_error(exc: OSError, what: str) -> str:
    """A user-facing message for an OS error on one of our own files."""
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {what}; nothing was changed"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied on {what}"
    reason = exc.strerror or type(exc).__name__
    return f"cannot write {what}: {reason}"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and make it owner-only (0700)."""
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, DIR_MODE)
    except OSError as exc:
        raise StoreError(describe_os_error(exc, str(path))) from exc


def fsync_dir(path: Path) -> None:
    """Make a rename or file creation in ``path`` durable (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, owner-only (0600).

    Raises StoreError (with the file named) on any OS error; the previous
    content of ``path`` is then untouched and no temporary file is left.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     FILE_MODE)
        try:
            if os.name == "posix":
                os.fchmod(fd, FILE_MODE)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise StoreError(describe_os_error(exc, path.name)) from exc


def create_private_file(path: Path) -> None:
    """Create an empty owner-only file if it does not exist; tighten its mode if it does."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)
        if os.name == "posix":
            os.chmod(path, FILE_MODE)
    except OSError as exc:
        raise StoreError(describe_os_error(exc, path.name)) from exc


def disable_core_dumps() -> None:
    """Best effort: a crash must not write keys to a core file (SECURITY.md R5)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
