#!/usr/bin/env bash
# Build the one-folder desktop bundle with PyInstaller and record its size and build time.
#
#   bash packaging/build.sh            -> build/pyinstaller/dist/afterimage/{afterimage,_internal/}
#
# Writes packaging/build-report.json (size, file count, largest parts, build seconds) and
# fails when CUDA/torch files ended up in the bundle or a packaged model is missing.
# Environment:
#   AFTERIMAGE_VENV        venv with afterimage[packaging] installed (default: <repo>/.venv)
#   AFTERIMAGE_BUILD_DIR   where PyInstaller works and writes (default: <repo>/build/pyinstaller)
# See docs/packaging.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
BUILD_DIR="${AFTERIMAGE_BUILD_DIR:-$ROOT/build/pyinstaller}"
REPORT="$ROOT/packaging/build-report.json"

die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
[[ -x "$PY" ]] || die "no venv at $VENV (bash scripts/install.sh, or set AFTERIMAGE_VENV)"
# The checkout's code, not whatever afterimage the venv may have installed in editable mode.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PYI_VERSION="$("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null)" \
    || die "PyInstaller is not installed: $PY -m pip install -c requirements.lock -e '.[packaging]'"

# The bundle ships the 8-bit OCR recogniser instead of the float one (hooks/hook-rapidocr.py):
# derive it into assets/models/derived/ (copied with assets/) unless a current one is there.
# Needs the onnx package here, at build time only (the spec keeps it out of the bundle).
if ! "$PY" -c 'import sys; from core.ocr_int8 import derived_complete; sys.exit(not derived_complete())'; then
    echo "==> deriving the 8-bit OCR recogniser (python -m core.ocr_int8)"
    "$PY" -m core.ocr_int8 || die "could not make the 8-bit OCR recogniser (is onnx installed?)"
fi
# The capture service's text model with 8-bit matrix products (core/embed_int8.py), likewise.
if ! "$PY" -c 'import sys; from core.embed_int8 import derived_embedder; sys.exit(derived_embedder() is None)'; then
    echo "==> deriving the 8-bit-matmul text model (python -m core.embed_int8)"
    "$PY" -m core.embed_int8 || die "could not make the 8-bit-matmul text model (is onnx installed?)"
fi

echo "==> PyInstaller $PYI_VERSION: building the bundle in $BUILD_DIR/dist/afterimage"
rm -rf "$BUILD_DIR/dist/afterimage"
start=$(date +%s.%N)
"$PY" -m PyInstaller --noconfirm --clean --log-level "${PYI_LOG_LEVEL:-WARN}" \
    --distpath "$BUILD_DIR/dist" --workpath "$BUILD_DIR/work" \
    packaging/afterimage.spec
echo "==> stripping symbol tables (packaging/strip_bundle.py)"
"$PY" packaging/strip_bundle.py "$BUILD_DIR/dist/afterimage" --report "$BUILD_DIR/strip-report.json"
end=$(date +%s.%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

"$PY" packaging/check_bundle.py "$BUILD_DIR/dist/afterimage" --build-seconds "$seconds" \
    --pyinstaller-version "$PYI_VERSION" --strip-report "$BUILD_DIR/strip-report.json" \
    --report "$REPORT"
echo "==> report: ${REPORT#"$ROOT"/}"
