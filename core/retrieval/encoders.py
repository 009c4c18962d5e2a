"""Encoders behind Protocols, built once by factories from the config.

* **Text** (:class:`core.types.Embedder`): ``minilm-l6-int8`` ships with Afterimage
  (the offline default). A larger sentence-transformer is selected with
  ``[embed] text_model = "onnx:<folder name>"``: the model manager downloads an ONNX
  export (``model.onnx`` + ``tokenizer.json`` + ``encoder.json`` giving ``dim`` and
  ``pooling``) into ``<data dir>/models/<folder name>`` with a pinned SHA-256, and
  :class:`OnnxSentenceEncoder` loads it. Changing the text model makes old vectors
  incomparable: the index snapshot is rebuilt and old memories are re-embedded by the
  consolidation queue (they keep their stored text).
* **Image** (:class:`ImageEncoder`): open_clip (e.g. ``ViT-B-32``, MobileCLIP) with
  weights the user downloads through the model manager, selected with
  ``[embed] image_model = "ViT-B-32"`` and ``image_weights = "<path>"``. When it is not
  configured, or ``open_clip``/``torch`` are not installed, search works on text only.
  The image preprocessing is our own (PIL + numpy: resize shortest side, centre crop,
  CLIP mean/std), so torchvision is not needed.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
from PIL import Image

from core.errors import ModelError

F32 = npt.NDArray[np.float32]

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class ImageEncoder(Protocol):
    """Images and query texts into one shared (CLIP) space, L2-normalised rows."""

    model_id: str
    dim: int

    def embed_images(self, images: list[Image.Image]) -> F32: ...

    def embed_texts(self, texts: list[str]) -> F32: ...


def _normalise(arr: npt.NDArray[Any]) -> F32:
    a = np.asarray(arr, dtype=np.float32)
    out: F32 = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    return out


def clip_preprocess(image: Image.Image, size: int, mean: tuple[float, ...] = CLIP_MEAN,
                    std: tuple[float, ...] = CLIP_STD) -> F32:
    """open_clip's eval transform without torchvision: RGB, resize the shortest side
    to ``size`` (bicubic), centre crop ``size`` x ``size``, scale to 0..1, normalise.
    Returns a C x H x W float32 array."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    scale = size / min(w, h)
    resized = rgb.resize((max(size, round(w * scale)), max(size, round(h * scale))),
                         Image.Resampling.BICUBIC)
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    crop = resized.crop((left, top, left + size, top + size))
    arr = cast(F32, np.asarray(crop, dtype=np.float32) / np.float32(255.0))
    norm = cast(F32, (arr - np.array(mean, np.float32)) / np.array(std, np.float32))
    out: F32 = np.ascontiguousarray(norm.transpose(2, 0, 1))
    return out


class OpenClipImageEncoder:
    """Implements :class:`ImageEncoder` with open_clip; weights from a local file.

    ``weights`` None builds the architecture with random weights (``pretrained=None``),
    which is what the tests run: the real open_clip model code, no download.
    """

    def __init__(self, model_name: str = "ViT-B-32", weights: Path | None = None, *,
                 threads: int = 0, batch_size: int = 8) -> None:
        self.model_name = model_name
        self.model_id = f"open_clip:{model_name}"
        self._weights = weights
        self._threads = threads
        self._batch = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._torch: Any = None
        self._size = 224
        self.dim = 0
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import open_clip
            import torch
        except ImportError as exc:
            raise ModelError("image search needs the optional image encoder "
                             "(open-clip-torch and torch); search works on text without it"
                             ) from exc
        if self._weights is not None and not self._weights.is_file():
            raise ModelError("the image model weights are missing; download them again in "
                             "the model manager")
        try:
            if self._threads > 0:
                torch.set_num_threads(self._threads)
            model = open_clip.create_model(self.model_name, pretrained=None)
            if self._weights is not None:
                if self._weights.suffix == ".safetensors":
                    from safetensors.torch import load_file

                    state = load_file(str(self._weights))
                else:
                    state = torch.load(str(self._weights), map_location="cpu",
                                       weights_only=True)
                model.load_state_dict(state.get("state_dict", state))
            model.eval()
            size = model.visual.image_size
            self._size = int(size[0] if isinstance(size, tuple | list) else size)
            self._tokenizer = open_clip.get_tokenizer(self.model_name)
            with torch.no_grad():
                probe = model.encode_text(self._tokenizer(["probe"]))
            self.dim = int(probe.shape[-1])
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            raise ModelError(f"the image model {self.model_name} failed to load") from exc
        self._torch = torch
        self._model = model

    def embed_images(self, images: list[Image.Image]) -> F32:
        with self._lock:
            self._load()
            if not images:
                return np.zeros((0, self.dim), np.float32)
            outs = []
            for i in range(0, len(images), self._batch):
                batch = np.stack([clip_preprocess(im, self._size)
                                  for im in images[i:i + self._batch]])
                try:
                    with self._torch.no_grad():
                        feats = self._model.encode_image(self._torch.from_numpy(batch))
                except RuntimeError as exc:
                    raise ModelError("the image model failed to run") from exc
                outs.append(feats.float().numpy())
            return _normalise(np.concatenate(outs))

    def embed_texts(self, texts: list[str]) -> F32:
        with self._lock:
            self._load()
            if not texts:
                return np.zeros((0, self.dim), np.float32)
            try:
                with self._torch.no_grad():
                    feats = self._model.encode_text(self._tokenizer(texts))
            except RuntimeError as exc:
                raise ModelError("the image model failed to run") from exc
            return _normalise(feats.float().numpy())


class OnnxSentenceEncoder:
    """Implements :class:`core.types.Embedder` for any sentence-transformer ONNX export
    (mean pooling + L2 normalisation, like sentence-transformers)."""

    def __init__(self, folder: Path, *, max_tokens: int = 256, batch_size: int = 16,
                 model_file: str = "model.onnx", tokenizer_file: str = "tokenizer.json",
                 dim: int | None = None) -> None:
        self._folder = folder
        self._model_file = folder / model_file
        self._tokenizer_file = folder / tokenizer_file
        self._max_tokens = max_tokens
        self._batch = batch_size
        meta_path = folder / "encoder.json"
        meta: dict[str, Any] = {}
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ModelError(f"{meta_path.name} of the text model is unreadable") from exc
        self.dim = int(dim or meta.get("dim") or 0)
        self.model_id = str(meta.get("model_id") or f"onnx:{folder.name}")
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        if not self._model_file.is_file() or not self._tokenizer_file.is_file():
            raise ModelError(f"the text model in {self._folder.name} is incomplete; download "
                             "it again in the model manager")
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            from core.inference import session_options

            options = session_options()  # background settings in the capture service
            self._session = ort.InferenceSession(str(self._model_file), sess_options=options,
                                                 providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in self._session.get_inputs()}
            tok = Tokenizer.from_file(str(self._tokenizer_file))
            tok.enable_truncation(self._max_tokens)
            tok.enable_padding()
            self._tokenizer = tok
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises many types
            self._session = None
            raise ModelError(f"the text model in {self._folder.name} failed to load") from exc

    def embed(self, texts: list[str]) -> F32:
        with self._lock:
            self._load()
            if not texts:
                return np.zeros((0, self.dim), np.float32)
            parts = []
            from core.embed import BACKGROUND_BATCH
            from core.inference import background_inference

            size = min(self._batch, BACKGROUND_BATCH) if background_inference() else self._batch
            for i in range(0, len(texts), size):
                enc = self._tokenizer.encode_batch([t if t.strip() else " "
                                                    for t in texts[i:i + size]])
                ids = np.array([e.ids for e in enc], dtype=np.int64)
                mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
                feed = {"input_ids": ids, "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids)}
                feed = {k: v for k, v in feed.items() if k in self._inputs}
                try:
                    hidden = self._session.run(None, feed)[0]
                except Exception as exc:  # noqa: BLE001
                    raise ModelError("the text model failed to run") from exc
                w = mask[..., None].astype(np.float32)
                parts.append((hidden * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-9))
            out = _normalise(np.concatenate(parts))
            self.dim = int(out.shape[1])
            return out


def text_encoder_for(name: str, models_dir: Path, *, max_tokens: int = 256) -> Any:
    """The text encoder named by ``[embed] text_model``."""
    if name == "minilm-l6-int8":
        from core.embed import MiniLmEmbedder

        return MiniLmEmbedder(max_tokens=max_tokens)
    if name.startswith("onnx:") and name[5:] and "/" not in name[5:] and ".." not in name:
        return OnnxSentenceEncoder(models_dir / name[5:], max_tokens=max_tokens)
    raise ModelError(f"unknown text model {name!r}")


def image_encoder_for(name: str, weights: str) -> ImageEncoder | None:
    """The image encoder named by ``[embed] image_model`` (None when not configured)."""
    if not name:
        return None
    return OpenClipImageEncoder(name, Path(weights).expanduser() if weights else None)
