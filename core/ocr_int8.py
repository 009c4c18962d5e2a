"""An 8-bit copy of the OCR recogniser, made once at install time from the model RapidOCR ships.

Recognition is most of OCR's cost, and three quarters of it is convolutions. Quantising the
recogniser's convolutions to 8 bits (static, per channel, calibrated on rendered text lines)
makes it ~1.6x cheaper on this machine's CPU and reads screen text as well as the float
model (docs/benchmarks.md: text compared line by line, and the privacy filter set).

The copy is *derived* from the installed ``rapidocr`` wheel's model, never downloaded:
``python -m core.ocr_int8`` (run by scripts/install.sh and the packaging build) writes it to
``assets/models/derived/`` with a manifest naming the source model's SHA-256. At run time
:func:`int8_recognizer` returns it only when that manifest matches the installed source
model; otherwise the float model is used and nothing else changes. Making the copy needs the
``onnx`` package (a build-time tool); using it needs only onnxruntime.

A second copy reads **only non-CJK scripts** (``ocr.scripts = "latin"``, the default outside
Chinese and Japanese locales): the recogniser's last layer scores 18,710 classes at every
step, 15,908 of them Chinese characters and 250 kana, and that layer (matrix product, bias,
softmax) is a quarter of its cost. The copy keeps the 2,452 other classes (Latin with its
accents, Greek, digits, punctuation, symbols): the same weights, sliced; a line it can read
gets the same text (docs/benchmarks.md: 348 screen lines, identical), ~17% less CPU.

Before quantising, the float graph is tidied (:func:`prepare_graph`, exact in float): the
exporter wrote every convolution's bias as a separate ``Add``, which in the 8-bit graph
became a dequantise, a float addition and a requantise per convolution (a third of the
recogniser's time); the biases are folded into the convolutions, pass-through ``Identity``
nodes are dropped, and GELU's five-node pattern becomes onnxruntime's ``FastGelu`` (its
automatic fusion no longer matches once a quantised convolution feeds it; the tanh form
differs from erf's by under 1e-3, far below the 8-bit steps around it, and its kernel costs
less: recognition -4.5% on the 320 known lines, error rate 0.0068 -> 0.0065). A convolution's
output is then quantised after its bias, whose per-channel offsets widen the range: ranges
are calibrated on 512 lines, averaged over the lines (the extremes of a few lines otherwise
set them), which reads as well as before (docs/benchmarks.md, eighth session).
"""

from __future__ import annotations

import json
import logging
import math
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ModelError
from core.resources import assets_dir, sha256_file

_log = logging.getLogger(__name__)

REC_HEIGHT = 48
MODEL_NAME = "PP-OCRv6_rec_small"
MANIFEST_VERSION = 4  # 4: GELU as FastGelu
CALIBRATION_LINES = 512
CALIBRATION_SEED = 8

_WORDS = ("meeting budget review travel design river survey garden chapter figure table "
          "method schedule results data team report draft archive recipe invoice Monday "
          "Tuesday export settings Terminal build passed failed error warning commit branch "
          "README config.toml https://example.org/path?q=1 user@example.com 2026-11-23 "
          "14:05 $1,234.56 #42 (draft) [OK] src/main.py def __init__(self): -> {x: 1}").split()


def source_model() -> Path:
    """The float recogniser shipped in the rapidocr wheel (found without importing it)."""
    from core.ppocr import REC_MODEL, model_dir

    return model_dir() / REC_MODEL


def derived_dir() -> Path:
    return assets_dir() / "models" / "derived"


def is_cjk(char: str) -> bool:
    """Chinese, Japanese and Korean characters, kana, and full- and half-width forms."""
    point = ord(char[0]) if char else 0
    return (0x2E80 <= point <= 0xA4CF or 0xAC00 <= point <= 0xD7AF
            or 0xF900 <= point <= 0xFAFF or 0xFE30 <= point <= 0xFE4F
            or 0xFF00 <= point <= 0xFFEF or point >= 0x20000)


def latin_classes(characters: list[str]) -> list[int]:
    """Indices into the model's dictionary of the characters the "latin" copy keeps."""
    return [i for i, char in enumerate(characters) if not is_cjk(char)]


def _verified(model: Path, sha256: object) -> bool:
    return model.is_file() and sha256 == sha256_file(model)


def int8_recognizer(folder: Path | None = None, scripts: str = "all") -> Path | None:
    """The 8-bit recogniser when it was made from the installed float model (or ships without
    it), else None. ``scripts="latin"``: the copy without CJK classes when it is there and
    intact (else the full 8-bit one)."""
    folder = folder or derived_dir()
    model = folder / f"{MODEL_NAME}.int8.onnx"
    manifest = folder / f"{MODEL_NAME}.int8.json"
    if not model.is_file() or not manifest.is_file():
        return None
    try:
        meta = json.loads(manifest.read_text())
        source = source_model()
        # A packaged app ships the 8-bit copy *instead of* the float model (packaging/):
        # then the copy's own checksum is what is checked.
        made_from_this = not source.is_file() or (
            meta.get("source_size") == source.stat().st_size
            and meta.get("source_sha256") == sha256_file(source))
        if meta.get("version") != MANIFEST_VERSION or not made_from_this or \
                not _verified(model, meta.get("sha256")):
            _log.info("ocr: the 8-bit recogniser does not match the installed model; "
                      "using the float one")
            return None
        if scripts == "latin":
            latin = folder / f"{MODEL_NAME}.int8.latin.onnx"
            if _verified(latin, meta.get("latin_sha256")):
                return latin
            _log.info("ocr: the recogniser without CJK is missing or damaged; "
                      "using the full one")
    except (OSError, ValueError, ModelError):
        return None
    return model


def derived_complete(folder: Path | None = None) -> bool:
    """Both 8-bit copies are there, made from the installed model and intact (what the
    installer and the packaging build check before deriving them again)."""
    latin = int8_recognizer(folder, scripts="latin")
    return latin is not None and latin.name.endswith(".latin.onnx")


def _line_images(rng: random.Random) -> Iterator[npt.NDArray[np.float32]]:
    """Rendered text lines, preprocessed as RapidOCR feeds its recogniser (height 48, width
    by aspect, values in [-1, 1], channels first)."""
    from PIL import Image, ImageDraw, ImageFont

    for n in range(CALIBRATION_LINES):
        size = rng.choice((11, 12, 13, 14, 16, 18, 20, 24))
        font = ImageFont.load_default(size=size)
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 12)))
        dark = n % 4 == 3  # some light-on-dark lines (terminals, dark themes)
        fg, bg = ((230, 230, 230), (30, 30, 30)) if dark else ((20, 20, 20), (250, 250, 250))
        x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text,
                                                                           font=font)
        pad = max(2, size // 4)
        image = Image.new("RGB", (math.ceil(x1 - x0) + 2 * pad, math.ceil(y1 - y0) + 2 * pad),
                          bg)
        ImageDraw.Draw(image).text((pad - x0, pad - y0), text, fill=fg, font=font)
        width = max(8, math.ceil(REC_HEIGHT * image.width / image.height))
        line = image.resize((width, REC_HEIGHT), Image.Resampling.BILINEAR)
        array = np.asarray(line, dtype=np.float32)[:, :, ::-1] / 255.0  # BGR like OpenCV
        yield ((array - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()


def make_int8_recognizer(folder: Path | None = None, *,
                         seed: int = CALIBRATION_SEED) -> Path:
    """Quantise the installed float recogniser into ``folder`` (default: the assets'
    derived models). Needs the ``onnx`` package. Deterministic for a given source model."""
    try:
        import onnx
        from onnx import version_converter
        from onnxruntime.quantization import (
            CalibrationDataReader,
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
    except ImportError as exc:
        raise ModelError("making the 8-bit OCR model needs the onnx package") from exc
    folder = folder or derived_dir()
    source = source_model()
    lines = list(_line_images(random.Random(seed)))

    class Lines(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it = iter(lines)

        def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
            item = next(self._it, None)
            return None if item is None else {"x": item}

    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{MODEL_NAME}.int8.onnx"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        upgraded = Path(tmp) / "opset17.onnx"
        # per-channel quantisation needs DequantizeLinear's axis (opset 13+); the shipped
        # model is opset 11
        graph = version_converter.convert_version(onnx.load(str(source)), 17)
        prepare_graph(graph)
        onnx.save(graph, str(upgraded))
        staged = Path(tmp) / "int8.onnx"
        quantize_static(str(upgraded), str(staged), Lines(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"],
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"CalibMovingAverage": True})
        staged.replace(model)
        latin = folder / f"{MODEL_NAME}.int8.latin.onnx"
        staged_latin = Path(tmp) / "latin.onnx"
        kept = _slice_classes(model, staged_latin)
        staged_latin.replace(latin)
    manifest = {"version": MANIFEST_VERSION, "source": source.name,
                "source_size": source.stat().st_size, "source_sha256": sha256_file(source),
                "sha256": sha256_file(model), "calibration_lines": len(lines), "seed": seed,
                "latin_sha256": sha256_file(latin), "latin_classes": kept}
    (folder / f"{MODEL_NAME}.int8.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return model


def prepare_graph(model: Any) -> dict[str, int]:
    """Tidy a float ONNX model in place before quantisation, computing the same function:
    drop ``Identity`` nodes, fold ``Conv -> Add(per-channel constant)`` into the
    convolution's bias, and replace GELU's erf pattern with onnxruntime's ``FastGelu`` (the
    same function to within 1e-3). Returns how many of each were changed."""
    return {"identity": _drop_identity(model.graph), "bias": _fold_conv_bias(model.graph),
            "gelu": _fuse_gelu(model)}


def _consumers(graph: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _drop_identity(graph: Any) -> int:
    outputs = {o.name for o in graph.output}
    renamed: dict[str, str] = {}
    kept = []
    for node in graph.node:
        if node.op_type == "Identity" and node.output[0] not in outputs:
            renamed[node.output[0]] = node.input[0]
        else:
            kept.append(node)

    def source(name: str) -> str:
        while name in renamed:
            name = renamed[name]
        return name

    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = source(name)
    del graph.node[:]
    graph.node.extend(kept)
    return len(renamed)


def _fold_conv_bias(graph: Any) -> int:
    from onnx import numpy_helper

    inits = {init.name: init for init in graph.initializer}
    consumers = _consumers(graph)
    outputs = {o.name for o in graph.output}
    folded = []
    for conv in graph.node:
        users = consumers.get(conv.output[0], [])
        if conv.op_type != "Conv" or len(conv.input) > 2 or len(users) != 1 \
                or users[0].op_type != "Add" or conv.output[0] in outputs:
            continue
        add = users[0]
        others = [name for name in add.input if name != conv.output[0]]
        if len(others) != 1 or others[0] not in inits or conv.input[1] not in inits:
            continue
        bias = numpy_helper.to_array(inits[others[0]])
        channels = numpy_helper.to_array(inits[conv.input[1]]).shape[0]
        if bias.size != channels or bias.shape not in ((channels,), (1, channels, 1, 1)):
            continue
        name = f"{conv.output[0]}.folded_bias"
        graph.initializer.append(numpy_helper.from_array(
            bias.reshape(channels).astype(np.float32), name))
        conv.input.append(name)
        conv.output[0] = add.output[0]
        folded.append(add)
    for add in folded:
        graph.node.remove(add)
    return len(folded)


def _constant(inits: dict[str, Any], name: str) -> float | None:
    from onnx import numpy_helper

    if name not in inits:
        return None
    value = numpy_helper.to_array(inits[name])
    return float(value) if value.size == 1 else None


def _fuse_gelu(model: Any) -> int:
    """``x * 0.5 * (1 + erf(x / sqrt(2)))`` as five nodes becomes one ``com.microsoft.FastGelu``
    (GELU's tanh form, within 1e-3 of it)."""
    import onnx

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    producer = {name: node for node in graph.node for name in node.output}
    consumers = _consumers(graph)
    fused = 0
    for erf in [node for node in graph.node if node.op_type == "Erf"]:
        div = producer.get(erf.input[0])
        chain = [erf]
        for _ in range(3):
            users = consumers.get(chain[-1].output[0], [])
            if len(users) != 1:
                break
            chain.append(users[0])
        if div is None or div.op_type != "Div" or len(chain) != 4:
            continue
        _, add, mul, half = chain
        x = div.input[0]
        if (add.op_type, mul.op_type, half.op_type) != ("Add", "Mul", "Mul") \
                or not math.isclose(_constant(inits, div.input[1]) or 0, math.sqrt(2),
                                    rel_tol=1e-5) \
                or _constant(inits, add.input[1]) != 1.0 or x not in mul.input \
                or _constant(inits, half.input[1]) != 0.5:
            continue
        at = list(graph.node).index(div)
        for node in (div, *chain):
            graph.node.remove(node)
        graph.node.insert(at, onnx.helper.make_node(
            "FastGelu", [x], [half.output[0]], name=f"{erf.name}.gelu", domain="com.microsoft"))
        fused += 1
    if fused and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    return fused


def _slice_classes(model: Path, out: Path) -> int:
    """Write ``model`` with its output layer cut to :func:`latin_classes` (plus CTC's blank,
    first, and the space, last); returns the number of classes kept."""
    import onnx
    from onnx import numpy_helper

    graph_model = onnx.load(str(model))
    graph = graph_model.graph
    producer = {out_name: node for node in graph.node for out_name in node.output}
    softmax = [node for node in graph.node if node.op_type == "Softmax"][-1]
    node = producer[softmax.input[0]]
    while node.op_type == "Identity":
        node = producer[node.input[0]]
    bias_add = node
    matmul = producer[bias_add.input[0]]
    if bias_add.op_type != "Add" or matmul.op_type != "MatMul":
        raise ModelError("the OCR recogniser's output layer is not MatMul + Add + Softmax")
    meta = {prop.key: prop for prop in graph_model.metadata_props}
    characters = meta["character"].value.splitlines()
    keep_chars = latin_classes(characters)
    keep = np.array([0, *(i + 1 for i in keep_chars), len(characters) + 1])
    inits = {init.name: init for init in graph.initializer}
    for name, axis in ((matmul.input[1], 1), (bias_add.input[1], 0)):
        values = numpy_helper.to_array(inits[name])
        if values.shape[axis] != len(characters) + 2:
            raise ModelError("the OCR recogniser's classes do not match its dictionary")
        inits[name].CopyFrom(numpy_helper.from_array(np.take(values, keep, axis=axis), name))
    meta["character"].value = "\n".join(characters[i] for i in keep_chars)
    onnx.save(graph_model, str(out))
    return len(keep)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = make_int8_recognizer()
    except ModelError as exc:
        print(f"8-bit OCR model not made: {exc}")
        return 1
    print(f"8-bit OCR recogniser: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    latin = path.with_name(f"{MODEL_NAME}.int8.latin.onnx")
    print(f"  without CJK: {latin} ({latin.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
