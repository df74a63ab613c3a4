#!/usr/bin/env bash
# Prepares, here, what a GPU loan needs (scripts/device/README.md): a self-contained linux-x64 publish of onnx-trainer
# with the CUDA build of ONNX Runtime, the ImageNet ResNet-18 and the photos, packed as zstd and cut into parts that
# each fit one device call (64 MiB per call, the repository included), under the git-ignored .device/parts/.
# Usage: scripts/device/stage.sh [--dry-run]   (--dry-run: the CPU package, to test the plan on a machine without a GPU)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
package=Microsoft.ML.OnnxRuntime.Gpu.Linux
[[ "${1:-}" == "--dry-run" ]] && package=Microsoft.ML.OnnxRuntime
part_mb="${PART_MB:-56}"   # 64 MiB per call less the repository (~5 MB) and headroom
stage="$root/.device"
rm -rf "$stage/build" "$stage/parts"
mkdir -p "$stage/build" "$stage/parts"

dotnet publish "$root/src/Trainer" -c Release -r linux-x64 --self-contained true -p:OnnxRuntimePackage="$package" \
    -o "$stage/build/trainer" -v q -nologo
# TensorRT's provider is not used; the CUDA provider (289 MB) is most of what travels.
rm -f "$stage/build/trainer/libonnxruntime_providers_tensorrt.so"
for f in "$root/models/imagenet/ResNet18.onnx" "$root/models/imagenet/ResNetPreprocess.onnx" "$root/data/photos/train" "$root/data/photos/val"; do
    [[ -e "$f" ]] || { echo "error: $f is missing: run scripts/setup.sh first" >&2; exit 1; }
done
mkdir -p "$stage/build/models" "$stage/build/data"
cp "$root/models/imagenet/ResNet18.onnx" "$root/models/imagenet/ResNetPreprocess.onnx" "$stage/build/models/"
cp -r "$root/data/photos" "$stage/build/data/"

tar -C "$stage/build" -cf - . | zstd -q -T0 -10 -o "$stage/bundle.tar.zst" -f
split -b "${part_mb}m" -d -a 2 "$stage/bundle.tar.zst" "$stage/parts/part"
(cd "$stage" && sha256sum bundle.tar.zst > parts/bundle.sha256)
rm "$stage/bundle.tar.zst"
echo "staged $(ls "$stage/parts" | grep -c '^part') parts of at most $part_mb MiB in $stage/parts (package $package):"
ls -l "$stage/parts"
echo "device calls, one after another within 30 s (README.md): carry .device/parts/partNN (and .device/parts/bundle.sha256 with the first)"
