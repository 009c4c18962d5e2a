#!/usr/bin/env bash
# Package Afterimage.app into a compressed disk image with an Applications shortcut.
#
#   bash installer/macos/build_dmg.sh          -> build/macos/Afterimage-<version>.dmg
#
# Runs build_app.sh first unless SKIP_APP=1. With NOTARY_PROFILE set (xcrun notarytool
# store-credentials NAME), the dmg is notarized and the ticket stapled.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ "$(uname -s)" == Darwin ]] || { echo "ERROR: build_dmg.sh runs on macOS only" >&2; exit 1; }
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
[[ "${SKIP_APP:-0}" == 1 ]] || bash installer/macos/build_app.sh
APP="$ROOT/build/pyinstaller/dist/Afterimage.app"
VERSION="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])' < <("$PY" packaging/metadata.py show))"
OUT="$ROOT/build/macos"
DMG="$OUT/Afterimage-$VERSION.dmg"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$OUT"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Afterimage $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 -ov "$DMG"
hdiutil verify "$DMG"
if [[ -n "${CODESIGN_IDENTITY:-}" && "${CODESIGN_IDENTITY}" != "-" ]]; then
    codesign --force --sign "$CODESIGN_IDENTITY" "$DMG"
fi
if [[ -n "${NOTARY_PROFILE:-}" ]]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
fi
echo "==> $DMG ($(du -h "$DMG" | cut -f1))"
