"""Shared pieces of the command line: exit codes, passphrase input, output helpers."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NO_VAULT = 4
EXIT_BUSY = 5


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 with the local UTC offset, to the second (the JSON contract's format)."""
    return None if ts is None else ts.astimezone().isoformat(timespec="seconds")


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def add_passphrase_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", metavar="FILE",
                        help="read the passphrase from FILE (else AFTERIMAGE_PASSPHRASE, "
                             "else a prompt)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def has_passphrase_source(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "passphrase_file", None) or os.environ.get("AFTERIMAGE_PASSPHRASE"))


def read_passphrase(args: argparse.Namespace, *, confirm: bool = False,
                    prompt: str = "Passphrase: ", env_var: str = "AFTERIMAGE_PASSPHRASE"
                    ) -> str:
    """From --passphrase-file, else the ``env_var`` variable, else the terminal."""
    from core.errors import InvalidInput

    path = getattr(args, "passphrase_file", None)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read the passphrase file {path}: {exc.strerror}") from exc
        value = text.splitlines()[0] if text.splitlines() else ""
        if not value:
            raise InvalidInput(f"the passphrase file {path} is empty")
        return value
    env = os.environ.get(env_var)
    if env:
        return env
    if not sys.stdin.isatty():
        raise InvalidInput("a passphrase is needed: type it at a terminal, set "
                           f"{env_var}, or pass a passphrase file")
    value = getpass.getpass(prompt)
    if confirm:
        again = getpass.getpass("Repeat the passphrase: ")
        if again != value:
            raise InvalidInput("the two passphrases differ; nothing was created")
    return value


class TerminalProgress:
    """A JobState that draws ``done/total`` on stderr."""

    def set_progress(self, done: int, total: int) -> None:
        sys.stderr.write(f"\r  {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def set_status(self, text: str) -> None:
        return None

    @property
    def cancelled(self) -> bool:
        return False
