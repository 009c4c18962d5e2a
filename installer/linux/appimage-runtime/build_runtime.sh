#!/usr/bin/env bash
# Build the AppImage type-2 runtime (runtime.c) from Debian packages only:
#   apt-get install gcc pkg-config libsquashfuse-dev libfuse3-dev libzstd-dev liblzma-dev \
#                   liblz4-dev liblzo2-dev zlib1g-dev
#
#   bash installer/linux/appimage-runtime/build_runtime.sh OUT_FILE
#
# squashfuse, FUSE 3 and the decompressors are linked statically (an AppImage must not need
# them on the user's machine); glibc stays dynamic, like the bundle itself. Writes the
# type-2 magic ("AI" 0x02 at byte 8 of the ELF header) into the result.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:?usage: build_runtime.sh OUT_FILE}"
for lib in squashfuse squashfuse_ll fuse3; do
    pkg-config --exists "$lib" || { echo "ERROR: $lib development files missing (apt-get install libsquashfuse-dev libfuse3-dev)" >&2; exit 1; }
done
mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2046  # pkg-config prints several flags
gcc -O2 -Wall -Wextra -std=gnu11 $(pkg-config --cflags squashfuse fuse3) \
    -o "$OUT" "$HERE/runtime.c" \
    -Wl,-Bstatic -lsquashfuse_ll -lsquashfuse -lfuse3 -lzstd -llzma -llz4 -llzo2 -lz \
    -Wl,-Bdynamic -lpthread -ldl
strip "$OUT"
printf 'AI\x02' | dd of="$OUT" bs=1 seek=8 count=3 conv=notrunc status=none
echo "==> AppImage runtime $OUT ($(stat -c %s "$OUT") bytes)"
