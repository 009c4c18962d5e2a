"""Shared helpers for tests: a CLI runner, rendered screenshots, and forensic scans."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct horse battery staple"

# Cheap key derivation for tests that are not about the KDF (the policy test checks defaults).
CHEAP_KDF_ENV = {
    "AFTERIMAGE_SECURITY__KDF_MEMORY_MIB": "64",
    "AFTERIMAGE_SECURITY__KDF_ITERATIONS": "1",
    "AFTERIMAGE_SECURITY__KDF_MIN_SECONDS": "0",
}


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_cli(home: Path, *args: str, passphrase: str | None = PASSPHRASE,
            env: dict[str, str] | None = None, input_text: str | None = None,
            timeout: float = 300) -> CliResult:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERIMAGE_")}
    full_env.update(CHEAP_KDF_ENV)
    full_env["AFTERIMAGE_HOME"] = str(home)
    full_env["TMPDIR"] = str(home.parent / "tmp")
    (home.parent / "tmp").mkdir(exist_ok=True)
    if passphrase is not None:
        full_env["AFTERIMAGE_PASSPHRASE"] = passphrase
    if env:
        full_env.update(env)
    proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout, input=input_text,
                          check=False)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def render_text_png(path: Path, lines: list[str], size: tuple[int, int] = (1280, 720),
                    font_size: int = 34) -> Path:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=font_size)
    y = 40
    for line in lines:
        draw.text((40, y), line, fill="black", font=font)
        y += int(font_size * 1.6)
    img.save(path)
    return path


def encodings_of(secret: str) -> list[bytes]:
    forms = {secret, secret.lower(), secret.upper()}
    out: list[bytes] = []
    for form in forms:
        raw = form.encode("utf-8")
        out += [raw, form.encode("utf-16-le"), form.encode("utf-16-be")]
        for offset in range(3):  # base64 of the secret at any alignment
            b64 = base64.b64encode(b"xx"[:offset] + raw).decode()
            core = b64[4 if offset else 0: -4]
            if len(core) >= 8:
                out.append(core.encode())
    return out


def scan_files_for(folder: Path, secret: str) -> list[str]:
    """Every file under ``folder`` that holds ``secret`` in any common encoding."""
    needles = encodings_of(secret)
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        lowered = data.lower()
        if any(n in data or n.lower() in lowered for n in needles):
            hits.append(str(path))
    return hits


def decode_all_lance_versions(store_dir: Path) -> tuple[list[str], list[str]]:
    """Decode every column of every version of every Lance table under ``store_dir``.

    Returns (all values rendered as text, names of float/vector columns found).
    """
    import lance
    import pyarrow as pa

    texts: list[str] = []
    float_columns: list[str] = []
    for table_dir in sorted(store_dir.glob("*.lance")):
        ds = lance.dataset(str(table_dir))
        for version in ds.versions():
            snapshot = lance.dataset(str(table_dir), version=version["version"])
            table = snapshot.to_table()
            for name in table.column_names:
                col = table.column(name)
                t = col.type
                if pa.types.is_floating(t) or pa.types.is_list(t) or \
                        pa.types.is_fixed_size_list(t):
                    float_columns.append(f"{table_dir.name}:{name}")
                for value in col.to_pylist():
                    if isinstance(value, bytes):
                        texts.append(value.decode("latin-1"))
                        try:  # an unsealed payload would be zlib-compressed JSON
                            texts.append(zlib.decompress(value).decode("utf-8", "replace"))
                        except zlib.error:
                            pass
                    else:
                        texts.append(str(value))
    return texts, float_columns


def assert_secret_absent(data_dir: Path, secret: str) -> None:
    hits = scan_files_for(data_dir, secret)
    assert hits == [], f"secret found in files: {hits}"
    tmp = Path(tempfile.gettempdir())
    store = data_dir / "vault" / "store"
    if store.exists():
        values, floats = decode_all_lance_versions(store)
        assert floats == [], f"plaintext float columns: {floats}"
        joined = "\n".join(values)
        for needle in encodings_of(secret):
            assert needle.decode("latin-1") not in joined
            assert needle.decode("latin-1").lower() not in joined.lower()
    del tmp
