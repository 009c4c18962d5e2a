"""The curated model catalog: what ``afterimage models download NAME`` may fetch.

Every file carries its URL (pinned to a repository revision where one is known), its size
and its SHA-256. Afterimage's build machine cannot reach Hugging Face, so the checksums
below were not re-hashed by us: each pinned value was taken from a public catalog that
records the file's Git-LFS pointer (``sha256_source`` says which). A wrong pin fails safe:
the download is refused and nothing is installed. Files whose checksum we could not find
are marked ``sha256=None``; ``download`` refuses them unless the user passes
``--allow-unpinned`` (then the file is still hashed and the hash recorded, so ``verify``
can detect later changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput


@dataclass(frozen=True)
class CatalogFile:
    filename: str
    url: str
    size_bytes: int | None  # None: not published where we could read it
    sha256: str | None  # None: no checksum found; see the module docstring
    sha256_source: str | None = None


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: str  # "chat" | "caption" | "image-embedding"
    title: str
    license: str
    files: tuple[CatalogFile, ...]
    approx_mb: int
    notes: str = ""

    @property
    def pinned(self) -> bool:
        """True when every file has a pinned SHA-256."""
        return all(f.sha256 for f in self.files)

    @property
    def size_bytes(self) -> int | None:
        sizes = [f.size_bytes for f in self.files]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)


_HF = "https://huggingface.co"

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="qwen2.5-1.5b-instruct",
        kind="chat",
        title="Qwen2.5 1.5B Instruct, Q4_K_M (better answers; ~2 GB RAM)",
        license="Apache-2.0",
        approx_mb=1066,
        files=(CatalogFile(
            filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
            url=f"{_HF}/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/"
                "91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf",
            size_bytes=1_117_320_736,
            sha256="6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",
            sha256_source="Git-LFS pointer of Qwen/Qwen2.5-1.5B-Instruct-GGUF at revision "
                          "91cad511, as recorded in a public pinned-download script"),),
    ),
    CatalogEntry(
        name="llama-3.2-3b-instruct",
        kind="chat",
        title="Llama 3.2 3B Instruct, Q4_K_M (best answers here; ~3.5 GB RAM)",
        license="Llama 3.2 Community License",
        approx_mb=1926,
        files=(CatalogFile(
            filename="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
            url=f"{_HF}/unsloth/Llama-3.2-3B-Instruct-GGUF/resolve/"
                "e7d0997e49c9cb00d88b4c1a6a16aa894b0bbc31/Llama-3.2-3B-Instruct-Q4_K_M.gguf",
            size_bytes=2_019_377_600,
            sha256="6c99cc00ae910f6a532a80022cb4bc1939094527a089c29294b841c0bd87f74d",
            sha256_source="unsloth/Llama-3.2-3B-Instruct-GGUF at revision e7d0997e, as "
                          "recorded (downloaded and re-hashed) in a public model catalog"),),
    ),
    CatalogEntry(
        name="smolvlm-500m",
        kind="caption",
        title="SmolVLM 500M Instruct, Q8_0 + projector (screen captions)",
        license="Apache-2.0",
        approx_mb=521,
        files=(
            CatalogFile(
                filename="SmolVLM-500M-Instruct-Q8_0.gguf",
                url=f"{_HF}/ggml-org/SmolVLM-500M-Instruct-GGUF/resolve/main/"
                    "SmolVLM-500M-Instruct-Q8_0.gguf",
                size_bytes=436_806_912,
                sha256="9d4612de6a42214499e301494a3ecc2be0abdd9de44e663bda63f1152fad1bf4",
                sha256_source="ggml-org/SmolVLM-500M-Instruct-GGUF (main), as pinned in a "
                              "public model registry"),
            CatalogFile(
                filename="mmproj-SmolVLM-500M-Instruct-Q8_0.gguf",
                url=f"{_HF}/ggml-org/SmolVLM-500M-Instruct-GGUF/resolve/main/"
                    "mmproj-SmolVLM-500M-Instruct-Q8_0.gguf",
                size_bytes=108_783_360,
                sha256="d1eb8b6b23979205fdf63703ed10f788131a3f812c7b1f72e0119d5d81295150",
                sha256_source="ggml-org/SmolVLM-500M-Instruct-GGUF (main), as pinned in a "
                              "public model registry"),
        ),
        notes="'main' is not a fixed revision: if ggml-org replaces the files, the pinned "
              "checksum makes the download fail instead of installing something else.",
    ),
    CatalogEntry(
        name="moondream2",
        kind="caption",
        title="moondream2 text model + projector, F16 (screen captions)",
        license="Apache-2.0",
        approx_mb=3700,
        files=(
            CatalogFile(
                filename="moondream2-text-model-f16.gguf",
                url=f"{_HF}/vikhyatk/moondream2/resolve/"
                    "fa8398d264205ac3890b62e97d3c588268ed9ec4/moondream2-text-model-f16.gguf",
                size_bytes=None, sha256=None),
            CatalogFile(
                filename="moondream2-mmproj-f16.gguf",
                url=f"{_HF}/vikhyatk/moondream2/resolve/"
                    "fa8398d264205ac3890b62e97d3c588268ed9ec4/moondream2-mmproj-f16.gguf",
                size_bytes=None, sha256=None),
        ),
        notes="No published checksum found: needs --allow-unpinned.",
    ),
    CatalogEntry(
        name="clip-vit-b-32-laion2b",
        kind="image-embedding",
        title="open_clip ViT-B-32 laion2b_s34b_b79k (image search)",
        license="MIT",
        approx_mb=605,
        files=(CatalogFile(
            filename="open_clip_model.safetensors",
            url=f"{_HF}/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/main/"
                "open_clip_model.safetensors",
            size_bytes=None, sha256=None),),
        notes="No published checksum found: needs --allow-unpinned. Used by the optional "
              "image-search component (open_clip), not by chat.",
    ),
)


def find_entry(name: str) -> CatalogEntry:
    wanted = name.strip().casefold()
    for entry in CATALOG:
        if entry.name == wanted:
            return entry
    known = ", ".join(e.name for e in CATALOG)
    raise InvalidInput(f"no model called {name!r} in the catalog (known: {known})")
