"""Logging: a rotating file in the data folder holding ids and counts only (R1, R12).

Core code never logs user content; as a second line of defence, records are
formatted with their arguments dropped for libraries we do not control.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

_OUR_PACKAGES = ("core", "app", "ui", "afterimage")


class _ContentFreeFormatter(logging.Formatter):
    """Our modules log ids/counts; third-party messages are reduced to their template."""

    def format(self, record: logging.LogRecord) -> str:
        if not record.name.startswith(_OUR_PACKAGES):
            record = logging.makeLogRecord(record.__dict__)
            record.msg = str(record.msg) if not record.args else str(record.msg)
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.msg = f"[{record.name}] message suppressed ({len(str(record.msg))} chars)"
        else:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_text = None
            if record.exc_info:
                etype = record.exc_info[0]
                record.msg = f"{record.msg} ({etype.__name__ if etype else 'error'})"
                record.exc_info = None
        return super().format(record)


def setup_logging(log_dir: Path, *, verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_afterimage_configured", False):
        return
    root.setLevel(logging.INFO)
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "afterimage.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(_ContentFreeFormatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.ERROR)
    console.setFormatter(_ContentFreeFormatter("afterimage: %(levelname)s: %(message)s"))
    root.addHandler(console)
    for noisy in ("RapidOCR", "rapidocr", "lancedb", "lance", "onnxruntime"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    root._afterimage_configured = True  # type: ignore[attr-defined]
