"""The 8-bit OCR recogniser derived at install time: made from the installed float model,
used only when its manifest matches, and it reads screen text like the float model."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from core.ocr import RapidOcrEngine
from core.ocr_int8 import MODEL_NAME, derived_complete, int8_recognizer, make_int8_recognizer
from tests.support import render_text_png

LINES = ["Quarterly budget review: travel 1,234.56 EUR (draft)",
         "Meeting with the design team on 2026-11-23 at 14:05",
         "git commit -m 'Fix the river survey export' && make test",
         "Invoice #4521 due Monday, contact billing@example.com"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    pytest.importorskip("onnx", reason="the onnx package (dev extra) makes the 8-bit model")
    folder = tmp_path_factory.mktemp("derived")
    model = make_int8_recognizer(folder)
    return folder, model


def test_the_8bit_model_is_made_with_a_manifest_and_used_only_when_it_matches(made, tmp_path):
    folder, model = made
    assert int8_recognizer(folder) == model
    assert model.stat().st_size < 16 * 2**20  # the float model is 20 MiB
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    manifest = copy / f"{MODEL_NAME}.int8.json"
    meta = json.loads(manifest.read_text())
    meta["source_sha256"] = "0" * 64  # made from another float model
    manifest.write_text(json.dumps(meta))
    assert int8_recognizer(copy) is None
    shutil.copytree(folder, tmp_path / "tampered")
    tampered = tmp_path / "tampered" / model.name
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    assert int8_recognizer(tmp_path / "tampered") is None
    assert int8_recognizer(tmp_path / "missing") is None


def test_the_8bit_model_reads_like_the_float_one(made, tmp_path):
    _, model = made
    png = render_text_png(tmp_path / "page.png", LINES, size=(1100, 260), font_size=22)
    image = Image.open(png)
    quick = RapidOcrEngine(native_det=True, det_band_px=384, rec_batch=1, rec_model=model)
    exact = RapidOcrEngine(native_det=True, det_band_px=384, rec_batch=1, int8=False)
    fast = [ln.text for ln in quick.recognize(image).lines]
    slow = [ln.text for ln in exact.recognize(image).lines]
    assert quick.recognizer.endswith(".int8.onnx") and exact.recognizer == "float"
    assert fast == slow == LINES


def test_a_package_without_the_float_model_trusts_the_8bit_copys_own_checksum(made, tmp_path,
                                                                            monkeypatch):
    import core.ocr_int8 as ocr_int8

    folder, model = made
    monkeypatch.setattr(ocr_int8, "source_model", lambda: tmp_path / "not-shipped.onnx")
    assert int8_recognizer(folder) == model
    shutil.copytree(folder, tmp_path / "tampered")
    tampered = tmp_path / "tampered" / model.name
    data = bytearray(tampered.read_bytes())
    data[len(data) // 3] ^= 0xFF
    tampered.write_bytes(bytes(data))
    assert int8_recognizer(tmp_path / "tampered") is None


def test_the_copy_without_cjk_reads_the_same_lines_and_is_checked_like_the_other(made,
                                                                                tmp_path):
    folder, model = made
    latin = int8_recognizer(folder, scripts="latin")
    assert latin is not None and latin.name == f"{MODEL_NAME}.int8.latin.onnx"
    assert int8_recognizer(folder, scripts="all") == model
    assert latin.stat().st_size < model.stat().st_size / 2  # 2,452 of 18,710 output classes
    meta = json.loads((folder / f"{MODEL_NAME}.int8.json").read_text())
    assert meta["latin_classes"] == 2452
    png = render_text_png(tmp_path / "page.png", LINES, size=(1100, 260), font_size=22)
    image = Image.open(png)
    reader = RapidOcrEngine(native_det=True, det_band_px=384, rec_batch=1, rec_model=latin)
    assert [ln.text for ln in reader.recognize(image).lines] == LINES
    # a damaged copy is not used: the full 8-bit recogniser is
    shutil.copytree(folder, tmp_path / "tampered")
    tampered = tmp_path / "tampered" / latin.name
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    assert int8_recognizer(tmp_path / "tampered", scripts="latin") == \
        tmp_path / "tampered" / model.name
    (tmp_path / "tampered" / latin.name).unlink()
    assert int8_recognizer(tmp_path / "tampered", scripts="latin") == \
        tmp_path / "tampered" / model.name
    # the installer and the build derive both copies again when one is missing
    assert derived_complete(folder) and not derived_complete(tmp_path / "tampered")


def test_which_characters_the_copy_without_cjk_keeps() -> None:
    from core.ocr_int8 import latin_classes

    kept = "a Z 0 9 é ß ł Ω ж € → ✓ ( @ ~".split()
    dropped = "中 語 あ ア ｱ Ａ 한 、".split()
    chars = kept + dropped
    assert [chars[i] for i in latin_classes(chars)] == kept


@pytest.mark.parametrize(("environ", "scripts"), [
    ({"LANG": "ja_JP.UTF-8"}, "all"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "all"),
    ({"LANG": "de_DE.UTF-8"}, "latin"),
    ({"LANG": "en_GB.UTF-8", "LANGUAGE": "en_GB:ja"}, "all"),
    ({"LANG": "C.UTF-8"}, "latin"),
])
def test_auto_reads_cjk_only_for_chinese_and_japanese_locales(environ, scripts) -> None:
    from core.ocr import ocr_scripts

    assert ocr_scripts("auto", environ) == scripts
    assert ocr_scripts("all", environ) == "all"
    assert ocr_scripts("latin", environ) == "latin"


def test_a_wrong_scripts_setting_is_refused() -> None:
    from core.config import parse_config
    from core.errors import ConfigError

    assert parse_config('[ocr]\nscripts = "latin"\n', environ={}).ocr.scripts == "latin"
    with pytest.raises(ConfigError, match="ocr.scripts"):
        parse_config('[ocr]\nscripts = "klingon"\n', environ={})


def test_the_graph_is_tidied_before_quantising_without_changing_what_it_computes():
    onnx = pytest.importorskip("onnx", reason="the onnx package (dev extra) makes the model")
    import numpy as np
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    from core.ocr_int8 import prepare_graph

    rng = np.random.default_rng(1)

    def const(name, value):
        return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)

    # conv (bias as a separate Add, behind an Identity) -> GELU as the exporter writes it
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Identity", ["c"], ["ci"]),
             helper.make_node("Add", ["ci", "b"], ["y"]),
             helper.make_node("Div", ["y", "sqrt2"], ["d"]),
             helper.make_node("Erf", ["d"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["e1"]),
             helper.make_node("Mul", ["y", "e1"], ["m"]),
             helper.make_node("Mul", ["m", "half"], ["out"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, None)],
        [const("w", rng.normal(size=(4, 3, 3, 3))), const("b", rng.normal(size=(1, 4, 1, 1))),
         const("sqrt2", np.sqrt(2.0)), const("one", 1.0), const("half", 0.5)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)

    def run(m):
        session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x})[0]

    before = run(model)
    assert prepare_graph(model) == {"identity": 1, "bias": 1, "gelu": 1}
    assert [n.op_type for n in model.graph.node] == ["Conv", "FastGelu"]
    assert len(model.graph.node[0].input) == 3  # the bias is the convolution's own
    np.testing.assert_allclose(run(model), before, rtol=1e-3, atol=1e-3)  # tanh GELU
