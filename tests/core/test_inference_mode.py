"""Background inference mode (core/inference.py): the capture service's ONNX sessions use
one non-spinning thread and no arena; the GUI/CLI keep onnxruntime's defaults."""

from __future__ import annotations

import os
import subprocess
import sys

from core.embed import MiniLmEmbedder
from core.inference import use_background_inference
from core.ocr import RapidOcrEngine
from tests.support import REPO, render_text_png


def _ocr_sessions(engine: RapidOcrEngine) -> list:
    return engine._load().sessions()


def test_background_ocr_sessions_use_one_quiet_thread_and_still_read(background, tmp_path):
    engine = RapidOcrEngine(native_det=True, angle_cls=True)
    assert len(_ocr_sessions(engine)) == 3
    for session in _ocr_sessions(engine):
        options = session.get_session_options()
        assert options.intra_op_num_threads == 1
        assert options.inter_op_num_threads == 1
        assert options.enable_cpu_mem_arena is False
        assert options.enable_mem_pattern is False  # a plan per input shape: +130 MB
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    png = render_text_png(tmp_path / "t.png", ["Quarterly budget review"], size=(640, 120))
    from PIL import Image

    text = engine.recognize(Image.open(png)).text
    assert "budget" in text.lower()


def test_background_embedder_session(background):
    embedder = MiniLmEmbedder()
    vectors = embedder.embed(["hello world"])
    assert vectors.shape == (1, 384)
    options = embedder._session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_background_embedder_reuses_recent_chunk_vectors(background, monkeypatch):
    """Consecutive memories of one screen share chunks: the service embeds each once (same
    vectors), and forgets them on pause/lock."""
    import numpy as np

    embedder = MiniLmEmbedder()
    first = embedder.embed(["budget review for the garden", "river survey chapter"])
    runs: list[int] = []
    original = embedder._embed_batch

    def counting(texts):
        runs.append(len(texts))
        return original(texts)

    monkeypatch.setattr(embedder, "_embed_batch", counting)
    second = embedder.embed(["river survey chapter", "team meeting schedule",
                             "river survey chapter"])
    assert runs == [1]  # only the new chunk was embedded
    np.testing.assert_allclose(second[0], first[1], atol=1e-6)
    np.testing.assert_allclose(second[2], first[1], atol=1e-6)
    use_background_inference(False)
    fresh = MiniLmEmbedder().embed(["team meeting schedule"])
    use_background_inference(True)
    # the service's text model (8-bit products) and the app's agree to their rounding
    assert float(np.dot(second[1], fresh[0])) > 0.998
    embedder.forget()
    embedder.embed(["river survey chapter"])
    assert runs == [1, 1]  # forgotten: embedded again


def test_interactive_mode_keeps_defaults():
    engine = RapidOcrEngine(native_det=True)
    sessions = _ocr_sessions(engine)
    assert len(sessions) == 2  # detector and recogniser (no classifier by default)
    for session in sessions:
        options = session.get_session_options()
        assert options.intra_op_num_threads in (0, -1)  # onnxruntime picks per core


def test_lower_priority_raises_niceness():
    code = ("import os; from core.inference import lower_priority; before = os.nice(0); "
            "lower_priority(3); print(os.nice(0) - before)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "3"
