#!/usr/bin/env bash
# Runs the real open_clip model code behind OpenClipImageEncoder (pretrained=None),
# in a separate venv so the main install stays free of torch (see docs/install.md).
#   IMAGE_VENV (default .venv-image): created if missing, from torch CPU 2.13.0 +
#   open-clip-torch 3.3.0 (--no-deps) + its pure-Python deps. torchvision is replaced by
#   an import-only shim (tests/image/shim) because no torchvision matches this torch.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${IMAGE_VENV:-.venv-image}"
TORCH_WHEEL="${TORCH_WHEEL:-/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    if [ -f "$TORCH_WHEEL" ]; then "$VENV/bin/pip" install -q "$TORCH_WHEEL"
    else
        echo "note: $TORCH_WHEEL not found; installing torch==2.13.0 from PyPI (large)" >&2
        "$VENV/bin/pip" install -q torch==2.13.0
    fi
    "$VENV/bin/pip" install -q numpy==2.4.6 pillow==13.0.0 pytest==9.2.0 ftfy==6.3.1 \
        regex safetensors huggingface_hub tqdm
    "$VENV/bin/pip" install -q --no-deps open-clip-torch==3.3.0
fi
PYTHONPATH="$PWD:$PWD/tests/image/shim" "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    -o addopts="" tests/image "$@"
