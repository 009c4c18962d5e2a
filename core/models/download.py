"""User-started model downloads: progress, resume, SHA-256 check, atomic install.

A download streams into ``<models>/.partial/<file>.part``. If that file exists (an earlier
transfer was interrupted) the request asks for the rest with an HTTP ``Range`` header; a
server that ignores it (200 instead of 206) makes us start again from zero. When the bytes
are complete their SHA-256 is compared with the pin; only a match is fsynced and renamed
into place (``os.replace``: atomic on one file system). A mismatch deletes the partial
file. Network failures become :class:`~core.errors.DownloadFailed` with a message that
says what to do; the partial file is kept so the next run resumes.

This is the only code in Afterimage that opens a network connection (SECURITY.md R11).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.errors import Cancelled, DownloadFailed
from core.jobs import JobState, SilentJob

_log = logging.getLogger(__name__)

CHUNK = 1 << 16
USER_AGENT = "Afterimage-model-manager/1"


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    sha256: str
    size: int
    resumed_from: int


def sha256_file(path: Path, state: JobState | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            done += len(block)
            if state is not None:
                if state.cancelled:
                    raise Cancelled("cancelled")
                state.set_progress(done, total)
    return digest.hexdigest()


def _offline_message(url: str, exc: BaseException) -> str:
    host = urllib.parse.urlparse(url).hostname or url
    return (f"cannot reach {host}: this computer seems to be offline or the server refused "
            f"the connection ({type(exc).__name__}). Nothing was installed; run the same "
            "command again when you are online to resume.")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def download_file(url: str, dest: Path, *, sha256: str | None, size: int | None = None,
                  state: JobState | None = None, timeout: float = 30.0) -> DownloadResult:
    """Fetch ``url`` into ``dest`` (resuming a partial transfer); verify; install atomically.

    ``sha256=None`` installs without a pin (callers must have the user's consent) and
    returns the computed hash for the record.
    """
    job = state or SilentJob()
    partial_dir = dest.parent / ".partial"
    partial_dir.mkdir(parents=True, exist_ok=True)
    part = partial_dir / (dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    resumed_from = have
    headers = {"User-Agent": USER_AGENT}
    if have and (size is None or have < size):
        headers["Range"] = f"bytes={have}-"
    complete = size is not None and have == size
    if not complete:
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:
                part.unlink()  # our partial file is not a prefix of theirs: start over
                return download_file(url, dest, sha256=sha256, size=size, state=state,
                                     timeout=timeout)
            raise DownloadFailed(f"the server answered {exc.code} {exc.reason} for "
                                 f"{dest.name}; nothing was installed") from exc
        except urllib.error.URLError as exc:
            raise DownloadFailed(_offline_message(url, exc.reason
                                                  if isinstance(exc.reason, BaseException)
                                                  else exc)) from exc
        except (TimeoutError, ConnectionError) as exc:
            raise DownloadFailed(_offline_message(url, exc)) from exc
        with response:
            status = getattr(response, "status", 200)
            if status == 206 and have:
                mode = "ab"
            else:
                mode, have, resumed_from = "wb", 0, 0
            length = response.headers.get("Content-Length")
            total = size if size is not None else (
                have + int(length) if length and length.isdigit() else None)
            try:
                with part.open(mode) as out:
                    while True:
                        if job.cancelled:
                            raise Cancelled("download cancelled; run it again to resume")
                        block = response.read(CHUNK)
                        if not block:
                            break
                        out.write(block)
                        have += len(block)
                        if total is not None and have > total:
                            break
                        job.set_progress(have, total or 0)
                    out.flush()
                    os.fsync(out.fileno())
            except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
                raise DownloadFailed(
                    f"the transfer of {dest.name} was interrupted after {have} bytes "
                    f"({type(exc).__name__}); run the same command again to resume") from exc
        if total is not None and have < total:
            raise DownloadFailed(f"the transfer of {dest.name} stopped after {have} of {total} "
                                 "bytes; run the same command again to resume")
    got_size = part.stat().st_size
    if size is not None and got_size != size:
        part.unlink()
        raise DownloadFailed(f"{dest.name} has {got_size} bytes, expected {size}; the partial "
                             "file was deleted and nothing was installed")
    job.set_status("verifying")
    digest = sha256_file(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink()
        raise DownloadFailed(f"checksum mismatch for {dest.name}: expected {sha256}, got "
                             f"{digest}. The file was deleted and nothing was installed.")
    os.replace(part, dest)
    _fsync_dir(dest.parent)
    _log.info("model file installed (%d bytes, resumed from %d)", got_size, resumed_from)
    return DownloadResult(path=dest, sha256=digest, size=got_size, resumed_from=resumed_from)
