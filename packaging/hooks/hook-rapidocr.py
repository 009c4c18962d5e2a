"""RapidOCR: package data (config.yaml, default_models.yaml, the PP-OCR .onnx models and the
arch_config.yaml its install check requires) are read relative to the package's __file__, so
they go under <bundle>/rapidocr/ exactly as in site-packages.

The package resolves ``rapidocr.main`` lazily (import_module) and picks its inference engine at
run time; only the onnxruntime engine is bundled (the spec excludes the torch, paddle,
openvino, tensorrt and MNN engines).
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

OTHER_ENGINES = ("pytorch", "paddle", "openvino", "tensorrt", "mnn")


def _wanted(name: str) -> bool:
    return not any(name.startswith(f"rapidocr.inference_engine.{e}") for e in OTHER_ENGINES)


hiddenimports = collect_submodules("rapidocr", filter=_wanted)
datas = collect_data_files("rapidocr", excludes=["**/.gitkeep", "**/*.pyi", "**/py.typed"])
