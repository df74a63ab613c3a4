#!/usr/bin/python3
"""The peer for the data loader benchmark: torchvision's ImageFolder + DataLoader with the same
transforms on the same generated JPEGs (run the .NET benchmark first; it writes them).

    /usr/bin/python3 benchmarks/DataLoaderBenchmark/torchvision_peer.py [IMAGES [BATCH]]

Debian's python3-torch / python3-torchvision; PIL decodes and resizes (antialiased bilinear).
"""
import os
import sys
import tempfile
import time

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

images = int(sys.argv[1]) if len(sys.argv) > 1 else 512
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
root = os.path.join(tempfile.gettempdir(), f"onnx-trainer-loader-bench-{images}")
normalize = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
evaluation = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), normalize])
train = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4), T.ToTensor(), normalize])


def row(name, transform, workers):
    """Five trials of at least one second; median wall-clock rate, and for the in-process loader
    (workers=0) the median rate per CPU-second, as the .NET harness reports."""
    loader = DataLoader(ImageFolder(root, transform), batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    for _ in loader:  # warm-up (and worker start)
        pass
    wall, cpu = [], []
    for _ in range(5):
        count, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < 1:
            for x, _ in loader:
                count += x.shape[0]
        wall.append(count / (time.perf_counter() - start))
        cpu.append(count / (time.process_time() - cpu_start))
    wall.sort()
    cpu.sort()
    per_cpu = f"{cpu[2]:.0f}" if workers == 0 else "n/a (worker processes)"
    print(f"| torchvision {name} | {max(workers, 1)} | {wall[2]:.0f} | {per_cpu} | {batch / wall[2] * 1000:.0f} |")


torch.manual_seed(1)
torch.set_num_threads(1)  # one thread per loader process, like the .NET single-thread rows
print(f"load average {os.getloadavg()[0]:.2f}; torch {torch.__version__}, {os.cpu_count()} cores")
print("| pipeline | threads | images/s (wall) | images per CPU-second | ms/batch (wall) |")
print("|---|---:|---:|---:|---:|")
row("eval: Resize 256 + CenterCrop 224 + Normalize", evaluation, 0)
row("eval: Resize 256 + CenterCrop 224 + Normalize", evaluation, os.cpu_count())
row("train: RandomResizedCrop + flip + ColorJitter", train, 0)
row("train: RandomResizedCrop + flip + ColorJitter", train, os.cpu_count())
