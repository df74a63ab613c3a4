#!/usr/bin/env bash
# On the device machine: joins the staged parts (carried one per call into .device/parts/, kept there while the
# machine stays warm), checks them against the checksum and unpacks them into .device/app/. Prints the parts still
# missing and exits 1 while the bundle is incomplete.
# Usage: scripts/device/unpack.sh EXPECTED_PART_COUNT
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
parts="$root/.device/parts"
expected="${1:?usage: unpack.sh EXPECTED_PART_COUNT}"
have=$(ls "$parts" 2>/dev/null | grep -c '^part' || true)
if (( have < expected )); then
    echo "have $have of $expected parts: $(ls "$parts" 2>/dev/null | grep '^part' | tr '\n' ' ')"
    exit 1
fi
cat "$parts"/part* > "$root/.device/bundle.tar.zst"
(cd "$root/.device" && sha256sum -c --quiet parts/bundle.sha256)
rm -rf "$root/.device/app" && mkdir -p "$root/.device/app"
zstd -q -d -c "$root/.device/bundle.tar.zst" | tar -C "$root/.device/app" -xf -
rm "$root/.device/bundle.tar.zst"
echo "unpacked into $root/.device/app: $(du -sh "$root/.device/app" | cut -f1)"
