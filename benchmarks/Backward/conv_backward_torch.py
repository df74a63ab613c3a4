"""Peer timings for benchmarks/Backward: PyTorch's own Conv backward (dX via conv_transpose /
oneDNN, dW via its weight-gradient kernel) for the same layers, batch and thread count.

    /usr/bin/python3 benchmarks/Backward/conv_backward_torch.py [--batch 16] [--repeats 15]

Debian python3-torch (+ libopenblas0-pthread), 2 threads. Keep LAYERS in sync with Program.cs.
"""
import argparse
import os
import statistics
import sys
import time

# glibc malloc kept from handing activation buffers back to the OS after every call, as jemalloc or tcmalloc would:
# PyTorch's fastest state (benchmarks/TrainingStep/training_step_torch.py measures the effect). glibc reads these at
# startup, hence the re-exec.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "68719476736"}


def ensure_tuned_malloc():
    if any(os.environ.get(k) != v for k, v in TUNED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **TUNED_MALLOC})


# Re-exec before the heavy imports (torch takes ~2 s), only when run as a script, not on import.
if __name__ == "__main__":
    ensure_tuned_malloc()

import torch


LAYERS = [
    # name, C, H, M, k, stride, pad, group, skip dX[, batch (else --batch)]
    ("resnet18 conv1 7x7 s2 3->64 @224", 3, 224, 64, 7, 2, 3, 1, True),
    ("resnet18 3x3 64->64 @56", 64, 56, 64, 3, 1, 1, 1, False),
    ("resnet18 3x3 s2 64->128 @56", 64, 56, 128, 3, 2, 1, 1, False),
    ("resnet18 1x1 s2 64->128 @56", 64, 56, 128, 1, 2, 0, 1, False),
    ("resnet18 3x3 128->128 @28", 128, 28, 128, 3, 1, 1, 1, False),
    ("resnet18 3x3 256->256 @14", 256, 14, 256, 3, 1, 1, 1, False),
    ("resnet18 3x3 512->512 @7", 512, 7, 512, 3, 1, 1, 1, False),
    ("resnet18 3x3 s2 256->512 @14", 256, 14, 512, 3, 2, 1, 1, False),
    ("mbv2 conv1 3x3 s2 3->32 @224", 3, 224, 32, 3, 2, 1, 1, True),
    ("mbv2 dw 3x3 32 @112", 32, 112, 32, 3, 1, 1, 32, False),
    ("mbv2 dw 3x3 s2 96 @112", 96, 112, 96, 3, 2, 1, 96, False),
    ("mbv2 1x1 24->144 @56", 24, 56, 144, 1, 1, 0, 1, False),
    ("mbv2 dw 3x3 144 @56", 144, 56, 144, 3, 1, 1, 144, False),
    ("mbv2 dw 3x3 s2 144 @56", 144, 56, 144, 3, 2, 1, 144, False),
    ("mbv2 1x1 144->24 @56", 144, 56, 24, 1, 1, 0, 1, False),
    ("mbv2 dw 3x3 192 @28", 192, 28, 192, 3, 1, 1, 192, False),
    ("mbv2 dw 3x3 576 @14", 576, 14, 576, 3, 1, 1, 576, False),
    ("mbv2 dw 3x3 960 @7", 960, 7, 960, 3, 1, 1, 960, False),
    ("mbv2 1x1 320->1280 @7", 320, 7, 1280, 1, 1, 0, 1, False),
    # The shipped 32x32 backbone (models/onnx/resnet-fmnist-source.onnx) at recipes/fine-tune.yaml's batch.
    ("fmnist 3x3 16->16 @32 b64", 16, 32, 16, 3, 1, 1, 1, False, 64),
    ("fmnist 3x3 s2 32->64 @16 b64", 32, 16, 64, 3, 2, 1, 1, False, 64),
    ("fmnist 3x3 64->64 @8 b64", 64, 8, 64, 3, 1, 1, 1, False, 64),
    ("fmnist 3x3 s2 64->128 @8 b64", 64, 8, 128, 3, 2, 1, 1, False, 64),
    ("fmnist 3x3 128->128 @4 b64", 128, 4, 128, 3, 1, 1, 1, False, 64),
]


def median_ms(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return f"{statistics.median(times):.1f} ({min(times):.1f})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default=None)
    parser.add_argument("--memory-format", choices=["contiguous", "channels_last"], default="contiguous",
                        help="layout of x, w and dY (channels_last: oneDNN without its NCHW reorders)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    print(f"Conv backward in PyTorch {torch.__version__}, batch {args.batch}, {args.memory_format}, 2 threads, median (min) of {args.repeats} runs, ms")
    print(f"{'layer':<34} {'dX':>15} {'dW':>15}")
    for name, c, h, m, k, stride, pad, group, skip_dx, *batch in LAYERS:
        if args.only and args.only.lower() not in name.lower():
            continue
        n = batch[0] if batch else args.batch
        fmt = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format
        x = torch.randn(n, c, h, h).contiguous(memory_format=fmt)
        w = torch.randn(m, c // group, k, k).contiguous(memory_format=fmt)
        out = (h + 2 * pad - k) // stride + 1
        dy = torch.randn(n, m, out, out).contiguous(memory_format=fmt)
        # The aten backward op computes exactly the requested gradients, as autograd would.
        def grads(mask):
            return lambda: torch.ops.aten.convolution_backward(
                dy, x, w, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], group, mask)
        with torch.no_grad():
            dx_ms = "-" if skip_dx else median_ms(grads([True, False, False]), args.warmup, args.repeats)
            dw_ms = median_ms(grads([False, True, False]), args.warmup, args.repeats)
        print(f"{name:<34} {dx_ms:>15} {dw_ms:>15}", flush=True)


if __name__ == "__main__":
    main()
