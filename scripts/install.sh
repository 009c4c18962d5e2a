#!/usr/bin/env bash
# Afterimage installer: system packages, virtualenv, Python deps, llama-cpp-python.
#
#   bash scripts/install.sh              install (or update) and launch the app
#   bash scripts/install.sh --no-launch  install only
#   bash scripts/install.sh -- ARGS...   install, then run `afterimage ARGS...`
#
# Idempotent: a re-run with nothing changed is a fast no-op (stamp file in the venv).
# Environment:
#   AFTERIMAGE_VENV         venv directory (default: <repo>/.venv)
#   AFTERIMAGE_PYTHON       Python 3.11 interpreter to build the venv with
#   AFTERIMAGE_WHEEL_CACHE  where the locally built llama-cpp-python wheel is kept
#                           (default: ${XDG_CACHE_HOME:-~/.cache}/afterimage-wheels)
#   AFTERIMAGE_FORCE=1      ignore the stamp and redo every step
# See docs/install.md.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV="${AFTERIMAGE_VENV:-$REPO_ROOT/.venv}"
WHEEL_CACHE="${AFTERIMAGE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/afterimage-wheels}"
APT_LIST="$REPO_ROOT/scripts/apt-packages.txt"
LOCK="$REPO_ROOT/requirements.lock"
STAMP="$VENV/.afterimage-install.stamp"
# Needed to compile llama-cpp-python from source (not in apt-packages.txt because they
# are build-time tools of this script, not runtime needs of the app).
BUILD_PACKAGES=(build-essential cmake)

log()  { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

LAUNCH=1
APP_ARGS=()
while (($#)); do
    case "$1" in
        --no-launch) LAUNCH=0 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; APP_ARGS+=("$@"); break ;;
        *) APP_ARGS+=("$1") ;;
    esac
    shift
done

PIP_QUIET=()
if [[ -n "${CI:-}" || ! -t 1 ]]; then
    PIP_QUIET=(--progress-bar off)
fi

# ---------------------------------------------------------------- 1. apt packages
read_apt_list() {
    # one package per line; '#' starts a comment; blank lines ignored
    [[ -f "$APT_LIST" ]] || return 0
    sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$APT_LIST" | sed '/^$/d'
}

missing_apt_packages() {
    # one dpkg-query call for all of them; unknown packages print nothing
    local -A installed=()
    local status pkg
    while read -r status pkg; do
        [[ "$status" == ii ]] && installed["${pkg%%:*}"]=1
    done < <(dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package}\n' "$@" 2>/dev/null || true)
    for pkg in "$@"; do
        [[ -n "${installed[${pkg%%:*}]:-}" ]] || printf '%s\n' "$pkg"
    done
}

ensure_apt_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "not a Debian/Ubuntu system (no dpkg-query): install the equivalents of"
        warn "  scripts/apt-packages.txt and a C/C++ toolchain + cmake yourself."
        return 0
    fi
    local wanted missing
    mapfile -t wanted < <(read_apt_list)
    wanted+=("${BUILD_PACKAGES[@]}")
    mapfile -t missing < <(missing_apt_packages "${wanted[@]}")
    if ((${#missing[@]} == 0)); then
        APT_STATUS="all ${#wanted[@]} system packages present"
        ((QUIET_APT)) || log "apt: $APT_STATUS"
        return 0
    fi
    log "apt: ${#missing[@]} package(s) missing: ${missing[*]}"
    local -a SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            warn "not root and no sudo: run this yourself, then re-run the installer:"
            warn "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
            APT_STATUS="MISSING: ${missing[*]}"
            return 0
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
    APT_STATUS="installed ${missing[*]}"
}

# ---------------------------------------------------------------- 2. python 3.11
is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

find_python() {
    local cand
    for cand in "${AFTERIMAGE_PYTHON:-}" python3.11 python3; do
        [[ -n "$cand" ]] || continue
        if command -v "$cand" >/dev/null 2>&1 && is_py311 "$cand"; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- helpers
llama_version() {
    # the exact pin of the `llm` extra in pyproject.toml (single source of truth)
    "$1" - <<'EOF'
import re, sys, tomllib
with open("pyproject.toml", "rb") as f:
    data = tomllib.load(f)
for req in data["project"]["optional-dependencies"]["llm"]:
    m = re.fullmatch(r"\s*llama[-_]cpp[-_]python\s*==\s*([^\s;]+)\s*", req)
    if m:
        print(m.group(1))
        sys.exit(0)
sys.exit("pyproject.toml: no 'llama-cpp-python==X' pin in [project.optional-dependencies] llm")
EOF
}

llama_ok() {
    # importable AND the pinned version
    "$VPY" - "$LLAMA_VERSION" >/dev/null 2>&1 <<'EOF'
import sys
from importlib.metadata import version
import llama_cpp  # noqa: F401  (loads the shared library)
sys.exit(version("llama-cpp-python") != sys.argv[1])
EOF
}

inputs_hash() {
    # everything that, when changed, must trigger a real (re)install
    {
        for f in pyproject.toml requirements.lock scripts/apt-packages.txt scripts/install.sh; do
            printf '%s\n' "$f"
            cat "$f" 2>/dev/null || true
        done
        "$VPY" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

ensure_derived_models() {
    # Models derived from the installed ones, once (~15 s): the 8-bit OCR recogniser
    # (core/ocr_int8.py) and the text model whose weights stay 8-bit (core/embed_int8.py).
    # Without them the app uses the installed models: a warning, not a failure.
    if ! "$VPY" -c 'import sys; from core.ocr_int8 import derived_complete; sys.exit(not derived_complete())' >/dev/null 2>&1; then
        log "ocr: making the 8-bit recogniser from the installed model (once)"
        "$VPY" -m core.ocr_int8 || warn "the 8-bit OCR recogniser could not be made; OCR uses the float model"
    fi
    if ! "$VPY" -c 'import sys; from core.embed_int8 import derived_embedder; sys.exit(derived_embedder() is None)' >/dev/null 2>&1; then
        log "embed: making the 8-bit-matmul text model from the installed one (once)"
        "$VPY" -m core.embed_int8 || warn "the 8-bit-matmul text model could not be made; capture uses the bundled one"
    fi
}

launch() {
    ((LAUNCH)) || return 0
    if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
        warn "no display: run \`$VENV/bin/afterimage --help\` for the CLI, or start under Xvfb"
        warn "  (e.g. xvfb-run -a $VENV/bin/afterimage)."
    fi
    log "launching: $VENV/bin/afterimage ${APP_ARGS[*]:-}"
    exec "$VENV/bin/afterimage" "${APP_ARGS[@]}"
}

# ================================================================ main
# (everything runs inside main so that editing this file mid-run cannot derail it)
main() {
    START=$SECONDS
    APT_STATUS=""
    # quiet apt check when a stamp exists (the usual no-op re-run prints one line)
    QUIET_APT=0
    [[ -f "$STAMP" ]] && QUIET_APT=1
    ensure_apt_packages

    PY="$(find_python)" || die "Python 3.11 not found (tried \$AFTERIMAGE_PYTHON, python3.11, python3).
      Install it (e.g. 'pyenv install 3.11' or 'apt-get install python3.11 python3.11-venv')."

    VPY="$VENV/bin/python"
    LLAMA_VERSION="$(llama_version "$PY")"
    [[ -f "$LOCK" ]] || die "requirements.lock is missing (regenerate with scripts/lock.sh)"

    # Fast path: nothing changed since the last successful install.
    if [[ -z "${AFTERIMAGE_FORCE:-}" && -x "$VPY" && -f "$STAMP" ]] && is_py311 "$VPY" \
            && [[ "$(cat "$STAMP")" == "$(inputs_hash)" ]] && llama_ok; then
        ensure_derived_models
        log "up to date: $VENV (${APT_STATUS:-apt skipped}; $((SECONDS - START))s)"
        if [[ "$APT_STATUS" == MISSING:* ]]; then
            warn "system packages still missing (${APT_STATUS#MISSING: }); the GUI and the tests need them."
        fi
        launch
        exit 0
    fi

    # ---------------------------------------------------------------- venv
    if [[ -e "$VENV" && ! -x "$VPY" ]]; then
        die "$VENV exists but is not a virtualenv (no bin/python); remove it or set AFTERIMAGE_VENV."
    fi
    if [[ -x "$VPY" ]]; then
        is_py311 "$VPY" || die "$VENV was made with $("$VPY" -V 2>&1), not Python 3.11; remove it and re-run."
        log "venv: reusing $VENV"
    else
        log "venv: creating $VENV with $PY ($("$PY" -V 2>&1))"
        "$PY" -m venv "$VENV" || die "could not create the venv (on Debian's system Python: apt-get install python3.11-venv)"
        "$VPY" -m pip install --disable-pip-version-check -q "${PIP_QUIET[@]}" --upgrade pip
    fi
    rm -f "$STAMP"

    # ---------------------------------------------------------------- python deps
    log "pip: installing afterimage[dev] with constraints from requirements.lock"
    "$VPY" -m pip install --disable-pip-version-check -q "${PIP_QUIET[@]}" \
        -c "$LOCK" -e ".[dev]"

    # ---------------------------------------------------------------- llama-cpp-python
    if llama_ok; then
        log "llama-cpp-python $LLAMA_VERSION: already installed"
    else
        # Kept per version, separate from any natively built wheel: the native build
        # (GGML_NATIVE=ON, the default) crashes on CPUs with AMX at the first generation.
        # The wheel is tagged py3-none-linux_<arch> (ctypes bindings, no CPython ABI), so
        # pip itself decides whether a cached one fits this machine.
        WHEEL_DIR="$WHEEL_CACHE/llama-cpp-python-$LLAMA_VERSION-native-off"
        mkdir -p "$WHEEL_DIR"
        shopt -s nullglob
        wheels=("$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*-linux_"$(uname -m)".whl)
        shopt -u nullglob
        if ((${#wheels[@]} == 0)); then
            log "llama-cpp-python $LLAMA_VERSION: building from source with GGML_NATIVE=OFF (takes 4-6 minutes)"
            TMP_WHEEL_DIR="$(mktemp -d "$WHEEL_CACHE/.build.XXXXXX")"
            trap 'rm -rf "$TMP_WHEEL_DIR"' EXIT
            CMAKE_ARGS="-DGGML_NATIVE=OFF${CMAKE_ARGS:+ $CMAKE_ARGS}" FORCE_CMAKE=1 \
            CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
                "$VPY" -m pip wheel --disable-pip-version-check "${PIP_QUIET[@]}" \
                    --no-deps --no-binary llama-cpp-python --no-cache-dir \
                    -w "$TMP_WHEEL_DIR" "llama-cpp-python==$LLAMA_VERSION"
            mv "$TMP_WHEEL_DIR"/llama_cpp_python-*.whl "$WHEEL_DIR"/
            rm -rf "$TMP_WHEEL_DIR"
            trap - EXIT
            shopt -s nullglob
            wheels=("$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*-linux_"$(uname -m)".whl)
            shopt -u nullglob
            ((${#wheels[@]})) || die "llama-cpp-python build produced no wheel in $WHEEL_DIR"
        else
            log "llama-cpp-python $LLAMA_VERSION: using cached wheel ${wheels[0]}"
        fi
        # From the cache dir by name (not by file path, so `pip freeze` shows a plain
        # pin); --only-binary keeps pip from falling back to the sdist; the small pure-
        # Python deps (jinja2, diskcache, ...) come from the index, pinned by the lock.
        # The lock's own llama pin is dropped here, so bumping the `llm` pin in
        # pyproject.toml just builds the new version (then re-run scripts/lock.sh).
        LLAMA_LOCK="$(mktemp)"
        grep -viE '^llama[-_.]cpp[-_.]python[[:space:]]*==' "$LOCK" > "$LLAMA_LOCK" || true
        "$VPY" -m pip install --disable-pip-version-check -q "${PIP_QUIET[@]}" \
            -c "$LLAMA_LOCK" --find-links "$WHEEL_DIR" --only-binary llama-cpp-python \
            "llama-cpp-python==$LLAMA_VERSION"
        rm -f "$LLAMA_LOCK"
        llama_ok || die "llama-cpp-python installed but 'import llama_cpp' fails;
      delete $WHEEL_DIR and re-run to rebuild it."
    fi

    # ---------------------------------------------------------------- check + stamp
    log "pip check"
    "$VPY" -m pip check --disable-pip-version-check
    ensure_derived_models
    inputs_hash > "$STAMP"
    log "done in $((SECONDS - START))s: venv $VENV${APT_STATUS:+ ($APT_STATUS)}"
    if [[ "$APT_STATUS" == MISSING:* ]]; then
        warn "system packages still missing (${APT_STATUS#MISSING: }); the GUI and the tests need them."
    fi

    launch
}

main
