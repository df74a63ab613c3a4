#!/usr/bin/env bash
# The GPU check's one command (scripts/device/README.md), after unpack.sh: finds the CUDA 13 and cuDNN 9 libraries of
# the machine's PyTorch (its nvidia-* wheels), then fine-tunes the ImageNet ResNet-18 with --device cuda (accuracy,
# the node placement of every graph, step time), sampling GPU memory, and writes what comes back under $OUT.
# Usage: scripts/device/check.sh [--dry-run]   (--dry-run: the same steps on the CPU provider, for a machine without a GPU)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="$root/.device/app"
out="${OUT:-$root/.device/out}"
mkdir -p "$out"
device=cuda
[[ "${1:-}" == "--dry-run" ]] && device=cpu
log="$out/check.log"
say() { echo "$*" | tee -a "$log"; }

if [[ $device == cuda ]]; then
    # The CUDA 13 runtime, cuBLAS, cuRAND and cuDNN 9 that PyTorch's wheels bring, for the CUDA provider to load.
    libs=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d + "/**/lib*.so*", recursive=True)})))')
    export LD_LIBRARY_PATH="$libs:${LD_LIBRARY_PATH:-}"
    say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader)"
    nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 250 > "$out/gpu-memory.csv" &
    sampler=$!
fi

say "fine-tune: $app/trainer/onnx-trainer train finetune-resnet18.yaml --device $device"
cp "$root/scripts/device/finetune-resnet18.yaml" "$app/finetune-resnet18.yaml"
(cd "$app" && timeout 420 ./trainer/onnx-trainer train finetune-resnet18.yaml --device "$device" --out "$out/finetune" ${FINETUNE_SET:-}) 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
cp "$out/finetune/run.log" "$out/run.log" 2>/dev/null
rm -rf "$out/finetune"   # checkpoints and model (~45 MB each) need not come back

if [[ $device == cuda ]]; then
    kill "$sampler" 2>/dev/null
    say "gpu memory: peak $(cut -d, -f2 "$out/gpu-memory.csv" | sort -n | tail -1)"
fi
say "placement: $(grep -h 'graph: ' "$out/run.log" | tr '\n' ';')"
exit "$status"
