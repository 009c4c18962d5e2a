#!/usr/bin/env bash
# Build an AppImage from the PyInstaller bundle.
#
#   bash installer/linux/build_appimage.sh [BUNDLE_DIR]  -> build/appimage/Afterimage-<version>-<arch>.AppImage
#
# Steps: (1) the AppDir (AppRun, desktop entry, icons, AppStream metadata, the bundle in
# usr/lib/afterimage), (2) a check that AppDir/AppRun starts the app, (3) packing.
# appimagetool and the reference runtime (AppImage/appimagetool, AppImage/type2-runtime) are
# GitHub release binaries that neither Debian nor PyPI ship, so by default step 3 uses only
# Debian tools: the type-2 runtime is compiled from appimage-runtime/runtime.c against
# Debian's libsquashfuse/libfuse3 (appimage-runtime/build_runtime.sh), the AppDir is packed
# with mksquashfs (squashfs-tools) and appended to it. With APPIMAGETOOL=/path/to/appimagetool
# (or appimagetool on PATH) that tool packs instead; RUNTIME_FILE=/path/to/runtime uses a
# given runtime with mksquashfs. Either way the image is then run once
# (--appimage-extract-and-run --version). Writes build/appimage/status.json.
# Environment: APPIMAGE_COMP (mksquashfs compressor, default zstd).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || PY="$(command -v python3)"
BUNDLE="${1:-$ROOT/build/pyinstaller/dist/afterimage}"
[[ -x "$BUNDLE/afterimage" ]] || { echo "ERROR: no bundle at $BUNDLE (bash packaging/build.sh)" >&2; exit 1; }
VERSION="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])' < <("$PY" packaging/metadata.py show))"
ARCH="$(uname -m)"
OUT="$ROOT/build/appimage"
APPDIR="$OUT/Afterimage.AppDir"
IMAGE="$OUT/Afterimage-$VERSION-$ARCH.AppImage"

echo "==> AppDir $APPDIR"
rm -rf "$APPDIR" && mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" \
    "$APPDIR/usr/share/metainfo"
cp -a "$BUNDLE" "$APPDIR/usr/lib/afterimage"
cat > "$APPDIR/AppRun" <<'APPRUN'
#!/bin/sh
# AppImage entry: run the bundled executable with the caller's arguments
# (`Afterimage.AppImage service` runs the capture service).
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/afterimage/afterimage" "$@"
APPRUN
chmod 755 "$APPDIR/AppRun"
"$PY" packaging/metadata.py render desktop --out "$APPDIR/usr/share/applications/afterimage.desktop"
cp "$APPDIR/usr/share/applications/afterimage.desktop" "$APPDIR/afterimage.desktop"
for png in assets/icons/afterimage-*.png; do
    size="${png##*-}"; size="${size%.png}"
    install -D -m 644 "$png" "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps/afterimage.png"
done
install -m 644 assets/icons/afterimage-256.png "$APPDIR/afterimage.png"
ln -sf afterimage.png "$APPDIR/.DirIcon"
"$PY" - "$APPDIR/usr/share/metainfo/io.afterimage.Afterimage.appdata.xml" <<'PYEOF'
import json, subprocess, sys
from xml.sax.saxutils import escape
meta = json.loads(subprocess.run([sys.executable, "packaging/metadata.py", "show"],
                                 capture_output=True, text=True, check=True).stdout)
xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>{meta['app_id']}</id>
  <metadata_license>CC0-1.0</metadata_license>
  <project_license>LicenseRef-proprietary</project_license>
  <name>{escape(meta['display_name'])}</name>
  <summary>{escape(meta['summary'].rstrip('.'))}</summary>
  <description><p>{escape(meta['description'])}</p></description>
  <launchable type="desktop-id">afterimage.desktop</launchable>
  <releases><release version="{meta['version']}"/></releases>
</component>
"""
open(sys.argv[1], "w").write(xml)
PYEOF

echo "==> checking AppDir/AppRun"
got="$("$APPDIR/AppRun" --version)"
[[ "$got" == "afterimage $VERSION" ]] || { echo "ERROR: AppRun --version said '$got'" >&2; exit 1; }

TOOL="${APPIMAGETOOL:-$(command -v appimagetool || command -v appimagetool-x86_64.AppImage || true)}"
status() {
    printf '{"version": "%s", "appdir": "%s", "appdir_runs": true, "appimage": %s, "packer": "%s", "bytes": %s, "reason": "%s"}\n' \
        "$VERSION" "${APPDIR#"$ROOT"/}" "$1" "$2" "${3:-null}" "$4" > "$OUT/status.json"
}
rm -f "$IMAGE"
if [[ -n "$TOOL" ]]; then
    packer="appimagetool"
    ARCH="$ARCH" "$TOOL" ${RUNTIME_FILE:+--runtime-file "$RUNTIME_FILE"} "$APPDIR" "$IMAGE"
else
    RUNTIME="${RUNTIME_FILE:-}"
    if [[ -z "$RUNTIME" ]]; then
        RUNTIME="$OUT/runtime-$ARCH"
        if ! bash "$ROOT/installer/linux/appimage-runtime/build_runtime.sh" "$RUNTIME"; then
            reason="no appimagetool, and the runtime could not be compiled: apt-get install gcc pkg-config libsquashfuse-dev libfuse3-dev libzstd-dev liblzma-dev liblz4-dev liblzo2-dev zlib1g-dev"
            status null none null "$reason"
            echo "==> AppDir built and checked; NOT packed into an AppImage: $reason"
            exit 0
        fi
        packer="runtime.c (Debian libsquashfuse + libfuse3) + mksquashfs"
    else
        packer="$RUNTIME_FILE + mksquashfs"
    fi
    command -v mksquashfs >/dev/null || { echo "ERROR: mksquashfs missing (apt-get install squashfs-tools)" >&2; exit 1; }
    echo "==> mksquashfs (${APPIMAGE_COMP:-zstd})"
    mksquashfs "$APPDIR" "$OUT/payload.squashfs" -root-owned -noappend -no-progress \
        -comp "${APPIMAGE_COMP:-zstd}" -b 1M >/dev/null
    cat "$RUNTIME" "$OUT/payload.squashfs" > "$IMAGE"
    rm -f "$OUT/payload.squashfs"
    chmod 755 "$IMAGE"
fi
got="$(env -u APPIMAGE_EXTRACT_AND_RUN_NODELETE "$IMAGE" --appimage-extract-and-run --version)"
[[ "$got" == "afterimage $VERSION" ]] || { echo "ERROR: the AppImage said '$got'" >&2; exit 1; }
status "\"${IMAGE#"$ROOT"/}\"" "$packer" "$(stat -c %s "$IMAGE")" "built"
echo "==> $IMAGE ($(du -h "$IMAGE" | cut -f1)), packed with $packer"
