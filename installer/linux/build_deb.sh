#!/usr/bin/env bash
# Build the Debian package from the PyInstaller bundle (run packaging/build.sh first).
#
#   bash installer/linux/build_deb.sh [BUNDLE_DIR]
#       -> build/deb/afterimage_<version>-1_<arch>.deb               (the app, ~560 MiB installed)
#          build/deb/afterimage-chat-model_<version>-1_all.deb       (its chat model, ~242 MiB)
#
# Layout: /opt/afterimage (the bundle), /usr/bin/afterimage (symlink), the desktop entry,
# hicolor icons, the man page, /usr/share/doc/afterimage, and the capture service's autostart
# entry in /usr/share/afterimage/autostart/ (installed per user by the app, not system-wide:
# see docs/packaging.md). Depends are computed from the bundle's ELF files.
# The built-in chat model (_internal/models/, Gemma 3 270M) goes into its own package
# afterimage-chat-model (/opt/afterimage/_internal/models/), which afterimage Recommends: apt
# installs it by default (`apt install ./afterimage_*.deb ./afterimage-chat-model_*.deb`);
# --no-install-recommends leaves it out, and `ask` then says how to get it.
# Environment: AFTERIMAGE_VENV (python for the helpers), DEB_COMPRESSION (xz|zstd|gzip; xz),
# DEB_SPLIT_MODEL=0: one package with the model inside instead, in build/deb-single/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="${AFTERIMAGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || PY="$(command -v python3)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
BUNDLE="${1:-$ROOT/build/pyinstaller/dist/afterimage}"
[[ -x "$BUNDLE/afterimage" ]] || { echo "ERROR: no bundle at $BUNDLE (bash packaging/build.sh)" >&2; exit 1; }
for tool in dpkg-deb dpkg fakeroot readelf objdump; do
    command -v "$tool" >/dev/null || { echo "ERROR: $tool is missing (apt-get install -y dpkg-dev fakeroot binutils)" >&2; exit 1; }
done

meta() { "$PY" packaging/metadata.py "$@"; }
NAME="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["name"])' < <(meta show))"
VERSION="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])' < <(meta show))"
ARCH="$(dpkg --print-architecture)"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
OUT_DIR="$ROOT/build/deb"
# The split (default) goes to build/deb/, which CI, smoke.sh and bench_bundle.py read; the
# one-package build to its own folder.
SPLIT="${DEB_SPLIT_MODEL:-1}"
[[ "$SPLIT" == 1 ]] || OUT_DIR="$ROOT/build/deb-single"
STAGE="$OUT_DIR/stage"
DEB="$OUT_DIR/${NAME}_${VERSION}-1_${ARCH}.deb"

echo "==> staging $NAME $VERSION ($ARCH)"
rm -rf "$STAGE" "$OUT_DIR"/*.deb && mkdir -p "$STAGE/DEBIAN"
install -d "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/$NAME/autostart" "$STAGE/usr/share/doc/$NAME" "$STAGE/usr/share/man/man1" \
    "$STAGE/usr/share/lintian/overrides"
cp -a "$BUNDLE" "$STAGE/opt/$NAME"
ln -s "/opt/$NAME/$NAME" "$STAGE/usr/bin/$NAME"

meta render desktop --out "$STAGE/usr/share/applications/$NAME.desktop"
meta render autostart --out "$STAGE/usr/share/$NAME/autostart/$NAME-service.desktop"
meta render deb-copyright --out "$STAGE/usr/share/doc/$NAME/copyright"
meta render deb-changelog --out "$STAGE/usr/share/doc/$NAME/changelog.Debian.gz"
meta render manpage --out "$STAGE/usr/share/man/man1/$NAME.1.gz"
cp installer/linux/lintian-overrides "$STAGE/usr/share/lintian/overrides/$NAME"

for png in assets/icons/afterimage-*.png; do
    size="${png##*-}"; size="${size%.png}"
    install -D -m 644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/$NAME.png"
done
install -D -m 644 assets/icons/afterimage.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/$NAME.svg"

for script in postinst prerm postrm; do
    install -m 755 "installer/linux/debian/$script" "$STAGE/DEBIAN/$script"
done

# Permissions Debian expects: directories 755, files 644, the executable and ELF programs
# 755, shared libraries 644.
find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE" -type f ! -path "$STAGE/DEBIAN/*" -exec chmod 644 {} +
chmod 755 "$STAGE/opt/$NAME/$NAME"

RECOMMENDS=""
MODEL_DEB=""
if [[ "$SPLIT" == 1 && -d "$STAGE/opt/$NAME/_internal/models" ]]; then
    MODEL_NAME="$NAME-chat-model"
    MSTAGE="$OUT_DIR/stage-model"
    MODEL_DEB="$OUT_DIR/${MODEL_NAME}_${VERSION}-1_all.deb"
    echo "==> splitting the chat model into $MODEL_NAME"
    rm -rf "$MSTAGE" && mkdir -p "$MSTAGE/DEBIAN" "$MSTAGE/opt/$NAME/_internal" \
        "$MSTAGE/usr/share/doc/$MODEL_NAME"
    mv "$STAGE/opt/$NAME/_internal/models" "$MSTAGE/opt/$NAME/_internal/models"
    install -D -m 644 installer/linux/lintian-overrides-chat-model \
        "$MSTAGE/usr/share/lintian/overrides/$MODEL_NAME"
    cp "$STAGE/usr/share/doc/$NAME/copyright" "$STAGE/usr/share/doc/$NAME/changelog.Debian.gz" \
        "$MSTAGE/usr/share/doc/$MODEL_NAME/"
    MSIZE_KIB="$(du -sk --apparent-size "$MSTAGE" --exclude=DEBIAN | cut -f1)"
    meta render deb-control-chat-model --installed-size "$MSIZE_KIB" \
        --out "$MSTAGE/DEBIAN/control"
    (cd "$MSTAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z \
        | xargs -0 md5sum > DEBIAN/md5sums)
    chmod 644 "$MSTAGE/DEBIAN/control" "$MSTAGE/DEBIAN/md5sums"
    RECOMMENDS="$MODEL_NAME (= $VERSION-1)"
fi

echo "==> computing Depends from the bundle's ELF files"
DEPENDS="$("$PY" installer/linux/deb_depends.py "$STAGE/opt/$NAME")"
SIZE_KIB="$(du -sk --apparent-size "$STAGE" --exclude=DEBIAN | cut -f1)"
meta render deb-control --arch "$ARCH" --installed-size "$SIZE_KIB" --depends "$DEPENDS" \
    --recommends "$RECOMMENDS" --out "$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z \
    | xargs -0 md5sum > DEBIAN/md5sums)
chmod 644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

echo "==> dpkg-deb (${DEB_COMPRESSION:-xz})"
rm -f "$DEB"
start=$(date +%s)
fakeroot dpkg-deb -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$DEB" >/dev/null
echo "==> $DEB: $(du -h "$DEB" | cut -f1) (installed: $((SIZE_KIB / 1024)) MiB), packed in $(( $(date +%s) - start )) s"
cat "$STAGE/DEBIAN/control"
if [[ -n "$MODEL_DEB" ]]; then
    rm -f "$MODEL_DEB"
    fakeroot dpkg-deb -Z"${DEB_COMPRESSION:-xz}" --build "$MSTAGE" "$MODEL_DEB" >/dev/null
    echo "==> $MODEL_DEB: $(du -h "$MODEL_DEB" | cut -f1) (installed: $((MSIZE_KIB / 1024)) MiB)"
    cat "$MSTAGE/DEBIAN/control"
fi
