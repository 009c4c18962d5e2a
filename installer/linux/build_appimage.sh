#!/usr/bin/env bash
# Build an AppImage from the PyInstaller bundle.
#
#   bash installer/linux/build_appimage.sh [BUNDLE_DIR]  -> build/appimage/Afterimage-<version>-<arch>.AppImage
#
# Steps: (1) the AppDir (AppRun, desktop entry, icons, the bundle in usr/lib/afterimage),
# (2) a check that AppDir/AppRun starts the app, (3) appimagetool packs it with the AppImage
# runtime. appimagetool and its runtime (AppImage/appimagetool, AppImage/type2-runtime) are
# published only as GitHub release binaries: neither Debian nor PyPI ships them (PyPI's
# appimage / python-appimage / appimage-builder download them from GitHub at build time).
# Point APPIMAGETOOL at an appimagetool executable (and RUNTIME_FILE at a runtime, if it
# cannot download one) to get step 3; without it the script stops after step 2, says so,
# and writes build/appimage/status.json.
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
    printf '{"version": "%s", "appdir": "%s", "appdir_runs": true, "appimage": %s, "reason": "%s"}\n' \
        "$VERSION" "${APPDIR#"$ROOT"/}" "$1" "$2" > "$OUT/status.json"
}
if [[ -z "$TOOL" ]]; then
    reason="appimagetool is not installed: it and the AppImage runtime are GitHub release binaries, not in Debian or PyPI; set APPIMAGETOOL=/path/to/appimagetool"
    status null "$reason"
    echo "==> AppDir built and checked; NOT packed into an AppImage: $reason"
    exit 0
fi
rm -f "$IMAGE"
ARCH="$ARCH" "$TOOL" ${RUNTIME_FILE:+--runtime-file "$RUNTIME_FILE"} "$APPDIR" "$IMAGE"
"$IMAGE" --appimage-extract-and-run --version
status "\"${IMAGE#"$ROOT"/}\"" "built"
echo "==> $IMAGE ($(du -h "$IMAGE" | cut -f1))"
