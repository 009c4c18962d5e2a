#!/usr/bin/env bash
# The slow packaging job (separate from .ci/run's fast test suite):
#   bundle (PyInstaller) -> .deb -> lintian -> AppImage -> smoke test of the AppImage and of
#   the installed .deb under Xvfb (CLI, GUI screenshot; apt remove + purge keep the vault)
#   [-> benchmark of the bundle with --bench].
#
#   bash packaging/ci-package.sh [--bench]
#
# Takes ~20 minutes on the 2-core machine (PyInstaller 2-5 min, dpkg-deb gzip ~4 min,
# lintian ~10 min, smoke ~3 min); see docs/packaging.md. Needs root for apt (build tools, installing the .deb).
# Outputs: build/pyinstaller/dist/afterimage/, build/deb/*.deb, build/deb/lintian.txt,
# build/appimage/, packaging/build-report.json, packaging/smoke-report.json,
# packaging/smoke/gui.png.
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
DEB="$(ls -t build/deb/*.deb | head -1)"

log "lintian"
lintian --tag-display-limit 0 --info "$DEB" > build/deb/lintian.txt 2>&1 || true
errors="$(grep -c '^E: ' build/deb/lintian.txt || true)"
warnings="$(grep -c '^W: ' build/deb/lintian.txt || true)"
echo "lintian: $errors errors, $warnings warnings (build/deb/lintian.txt)"
grep -E '^(E|W): ' build/deb/lintian.txt | sed 's/^/  /' | head -40 || true

log "AppImage"
bash installer/linux/build_appimage.sh

log "smoke (AppImage)"
APPIMAGE_FILE="$(ls -t build/appimage/*.AppImage 2>/dev/null | head -1 || true)"
if [[ -n "$APPIMAGE_FILE" ]]; then
    bash packaging/smoke.sh --appimage "$APPIMAGE_FILE" \
        --report packaging/smoke-appimage-report.json --screenshot packaging/smoke/gui-appimage.png
fi

log "smoke (.deb)"
bash packaging/smoke.sh --deb "$DEB"

if ((BENCH)); then
    log "benchmark"
    PYTHONPATH="$ROOT" "$PY" -m bench.bench_bundle
fi
log "done"
if [[ "$errors" != 0 ]]; then
    echo "FAIL: lintian reported errors" >&2
    exit 1
fi
