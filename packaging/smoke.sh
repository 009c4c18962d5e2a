#!/usr/bin/env bash
# Smoke-test the packaged app on this machine under Xvfb (see packaging/smoke.py).
#
#   bash packaging/smoke.sh                   # build/deb/*.deb (the app and its chat model):
#                                             #   install both, test, remove, purge
#   bash packaging/smoke.sh --bundle DIR      # run a bundle folder in place (no root needed)
#   bash packaging/smoke.sh --deb FILE.deb [MODEL.deb]
#   bash packaging/smoke.sh --deb afterimage_*.deb --core-only --report R.json  # no chat model
#
# Writes packaging/smoke-report.json and packaging/smoke/gui.png (look at it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || { echo "ERROR: no venv at $VENV (set AFTERIMAGE_VENV)" >&2; exit 1; }
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if (($# == 0)); then
    if [[ "$(id -u)" == 0 ]] && compgen -G "build/deb/*.deb" >/dev/null; then
        set -- --deb build/deb/*.deb
    else
        set -- --bundle build/pyinstaller/dist/afterimage
    fi
fi
exec "$PY" packaging/smoke.py "$@"
