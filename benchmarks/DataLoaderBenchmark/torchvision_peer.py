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
    loader = DataLoader(ImageFolder(root, transform), batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    for _ in loader:  # warm-up (and worker start)
        pass
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        for x, _ in loader:
            count += x.shape[0]
    per_second = count / (time.perf_counter() - start)
    print(f"| torchvision {name} | {max(workers, 1)} | {per_second:.0f} | {batch / per_second * 1000:.0f} |")


torch.manual_seed(1)
print(f"torch {torch.__version__}, {os.cpu_count()} cores")
print("| pipeline | threads | images/s | ms/batch |")
print("|---|---:|---:|---:|")
row("eval: Resize 256 + CenterCrop 224 + Normalize", T.Compose([evaluation]), 0)
row("eval: Resize 256 + CenterCrop 224 + Normalize", evaluation, os.cpu_count())
row("train: RandomResizedCrop + flip + ColorJitter", train, 0)
row("train: RandomResizedCrop + flip + ColorJitter", train, os.cpu_count())
