#!/usr/bin/env bash
# Build Afterimage.app on macOS: PyInstaller (the spec's BUNDLE step writes Contents/Info.plist
# from packaging/metadata.py) + the capture service's LaunchAgent template + code signing.
#
#   bash installer/macos/build_app.sh          -> build/pyinstaller/dist/Afterimage.app
#
# Environment: AFTERIMAGE_VENV (default .venv), CODESIGN_IDENTITY (default "-": ad-hoc; use a
# "Developer ID Application: ..." identity for distribution), NOTARY_PROFILE (a notarytool
# keychain profile; when set the app is notarized and stapled by build_dmg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ "$(uname -s)" == Darwin ]] || { echo "ERROR: build_app.sh runs on macOS only" >&2; exit 1; }
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
IDENTITY="${CODESIGN_IDENTITY:--}"

bash packaging/build.sh
APP="$ROOT/build/pyinstaller/dist/Afterimage.app"
[[ -d "$APP" ]] || { echo "ERROR: PyInstaller did not produce $APP" >&2; exit 1; }

# The LaunchAgent the app installs into ~/Library/LaunchAgents when the user turns on
# "capture when I log in" (per user, never system-wide).
LABEL="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["service_label"])' < <("$PY" packaging/metadata.py show))"
"$PY" packaging/metadata.py render launch-agent --app-path "/Applications/Afterimage.app" \
    --out "$APP/Contents/Resources/LaunchAgents/$LABEL.plist"

# Check what PyInstaller wrote against what metadata.py says.
"$PY" packaging/metadata.py render info-plist --out "$ROOT/build/macos/Info.expected.plist"
plutil -lint "$APP/Contents/Info.plist" "$APP/Contents/Resources/LaunchAgents/$LABEL.plist"
for key in CFBundleIdentifier CFBundleShortVersionString NSScreenCaptureUsageDescription; do
    want="$(/usr/libexec/PlistBuddy -c "Print :$key" "$ROOT/build/macos/Info.expected.plist")"
    got="$(/usr/libexec/PlistBuddy -c "Print :$key" "$APP/Contents/Info.plist")"
    [[ "$want" == "$got" ]] || { echo "ERROR: Info.plist $key is '$got', expected '$want'" >&2; exit 1; }
done

# Sign inside-out with the hardened runtime (needed for notarization). Screen capture needs
# no entitlement: macOS asks the user (TCC) the first time; the first-run wizard explains it.
codesign --force --deep --options runtime --timestamp=none --sign "$IDENTITY" "$APP"
codesign --verify --deep --strict "$APP"
"$APP/Contents/MacOS/afterimage" --version
echo "==> $APP ($(du -sh "$APP" | cut -f1))"
