"""RapidOCR: only its text *detector* model is bundled, under <bundle>/rapidocr/models/ exactly
as in site-packages (core/ppocr.py finds it through the package's location, without importing
the package).

The recogniser ships as the 8-bit copy derived at build time (core/ocr_int8.py, written to
assets/models/derived/ by packaging/build.sh and copied with assets/): the float
``PP-OCRv6_rec_small.onnx`` (20 MiB) is then dead weight, and so is the angle classifier
``ch_ppocr_mobile_v2.0_cls_mobile.onnx`` (the app never turns ``angle_cls`` on).
check_bundle.py requires the detector and the 8-bit recogniser (both copies: all scripts, and
the one without CJK classes, 4.9 MiB) with its manifest.

None of the package's Python pipeline is bundled: Afterimage runs the models itself
(core/ppocr.py), and that pipeline is what imports OpenCV, pyclipper, shapely and omegaconf
(all excluded by afterimage.spec). Only ``rapidocr/__init__.py`` comes along (the spec's hidden
import), so that the package is found; it imports nothing heavy.
"""

from PyInstaller.utils.hooks import collect_data_files

hiddenimports: list[str] = []
datas = collect_data_files("rapidocr", includes=["models/PP-OCRv6_det_small.onnx"])
