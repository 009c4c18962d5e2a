#!/usr/bin/env bash
# The slow packaging job (separate from .ci/run's fast test suite):
#   bundle (PyInstaller) -> the two .debs (afterimage + afterimage-chat-model) -> lintian on
#   both -> AppImage (self-contained, with the model) -> smoke test of the AppImage, of both
#   .debs installed together under Xvfb (CLI, GUI screenshot; apt remove + purge keep the
#   vault), and of the core .deb alone (ask says to install afterimage-chat-model)
#   [-> benchmark of the bundle with --bench].
#   DEB_SPLIT_MODEL=0: one .deb with the model inside (build/deb-single/) instead.
#
#   bash packaging/ci-package.sh [--bench]
#
# Takes ~20 minutes on the 2-core machine (PyInstaller 2-5 min, dpkg-deb gzip ~4 min,
# lintian ~10 min, smoke ~3 min); see docs/packaging.md. Needs root for apt (build tools, installing the .deb).
# Outputs: build/pyinstaller/dist/afterimage/, build/deb/*.deb, build/deb/lintian*.txt,
# build/appimage/, packaging/build-report.json, packaging/smoke-report.json,
# packaging/smoke-core-only-report.json, packaging/smoke/gui.png.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
export AFTERIMAGE_VENV="$VENV"
BENCH=0
[[ "${1:-}" == --bench ]] && BENCH=1
log() { printf '\n==== %s (%ss)\n' "$*" "$SECONDS"; }

log "tools"
[[ -x "$PY" ]] || bash scripts/install.sh --no-launch
BUILD_PACKAGES=(dpkg-dev fakeroot lintian desktop-file-utils binutils
    # the AppImage: mksquashfs and the type-2 runtime compiled against Debian's libraries
    squashfs-tools gcc pkg-config libsquashfuse-dev libfuse3-dev libzstd-dev liblzma-dev
    liblz4-dev liblzo2-dev zlib1g-dev)
missing=()
for pkg in "${BUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
"$PY" -c 'import PyInstaller' 2>/dev/null \
    || "$PY" -m pip install --disable-pip-version-check -q -c requirements.lock -e ".[packaging]"

log "bundle"
bash packaging/build.sh

log "deb"
# gzip: ~4 min instead of ~40 min for xz on 2 shared cores (a release build can use xz);
# not zstd, which bookworm's lintian rejects as a malformed archive.
DEB_COMPRESSION="${DEB_COMPRESSION:-gzip}" bash installer/linux/build_deb.sh
DEB_DIR=build/deb
[[ "${DEB_SPLIT_MODEL:-1}" == 1 ]] || DEB_DIR=build/deb-single
DEB="$(ls -t "$DEB_DIR"/afterimage_*.deb | head -1)"
MODEL_DEB="$(ls -t "$DEB_DIR"/afterimage-chat-model_*.deb 2>/dev/null | head -1 || true)"

log "lintian"
errors=0
for pkg in "$DEB" ${MODEL_DEB:+"$MODEL_DEB"}; do
    name="$(basename "$pkg" .deb)"; name="${name%%_*}"
    out="$DEB_DIR/lintian-$name.txt"
    lintian --tag-display-limit 0 --info "$pkg" > "$out" 2>&1 || true
    e="$(grep -c '^E: ' "$out" || true)"
    w="$(grep -c '^W: ' "$out" || true)"
    echo "lintian $name: $e errors, $w warnings ($out)"
    grep -E '^(E|W): ' "$out" | sed 's/^/  /' | head -40 || true
    errors=$((errors + e))
done

log "AppImage"
bash installer/linux/build_appimage.sh

log "smoke (AppImage)"
APPIMAGE_FILE="$(ls -t build/appimage/*.AppImage 2>/dev/null | head -1 || true)"
if [[ -n "$APPIMAGE_FILE" ]]; then
    bash packaging/smoke.sh --appimage "$APPIMAGE_FILE" \
        --report packaging/smoke-appimage-report.json --screenshot packaging/smoke/gui-appimage.png
fi

log "smoke (.deb)"
bash packaging/smoke.sh --deb "$DEB" ${MODEL_DEB:+"$MODEL_DEB"}
if [[ -n "$MODEL_DEB" ]]; then
    log "smoke (core .deb alone, without the chat model)"
    bash packaging/smoke.sh --deb "$DEB" --core-only \
        --report packaging/smoke-core-only-report.json
fi

if ((BENCH)); then
    log "benchmark"
    PYTHONPATH="$ROOT" "$PY" -m bench.bench_bundle
fi
log "done"
if [[ "$errors" != 0 ]]; then
    echo "FAIL: lintian reported errors" >&2
    exit 1
fi
