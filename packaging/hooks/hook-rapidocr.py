"""RapidOCR: only its PP-OCR .onnx models are bundled, under <bundle>/rapidocr/models/
exactly as in site-packages (core/ppocr.py finds them through the package's location, without
importing it).

None of the package's Python pipeline is bundled: Afterimage runs the models itself
(core/ppocr.py), and that pipeline is what imports OpenCV, pyclipper, shapely and omegaconf
(all excluded by afterimage.spec). Only ``rapidocr/__init__.py`` comes along (the spec's hidden
import), so that the package is found; it imports nothing heavy.
"""

from PyInstaller.utils.hooks import collect_data_files

hiddenimports: list[str] = []
datas = collect_data_files("rapidocr", includes=["models/*.onnx"])
