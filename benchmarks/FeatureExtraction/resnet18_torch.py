#!/usr/bin/python3
"""The PyTorch peer of the feature-extraction benchmark: torchvision's resnet18 (random weights: the same
FLOPs as ImageNet's), eval mode, no autograd, N threads; prints one JSON line.

    /usr/bin/python3 benchmarks/FeatureExtraction/resnet18_torch.py THREADS BATCH PHOTOS_TRAIN_FOLDER

forward: a pre-made [BATCH, 3, 224, 224] tensor, 5 trials of at least 2 s each, the median rate. Model and input
in channels_last (PyTorch's advice for CNNs on CPU and its fastest state here, see training_step_torch.py); the
harness starts this script with OMP_WAIT_POLICY=PASSIVE and glibc malloc tuned as training_step_torch.py explains.
photos: the folder's images through PIL decode, Resize(224), CenterCrop(224), ToTensor, Normalize and the
forward pass (ImageFolder + DataLoader in-process), the whole folder once after a warm-up pass.
"""
import json
import sys
import time

import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

threads, batch, photos = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
model = torchvision.models.resnet18().eval().to(memory_format=torch.channels_last)
x = torch.rand(batch, 3, 224, 224).contiguous(memory_format=torch.channels_last)


def forward_rate():
    rates = []
    with torch.inference_mode():
        model(x)
        for _ in range(5):
            start, images = time.perf_counter(), 0
            while time.perf_counter() - start < 2:
                model(x)
                images += batch
            rates.append(images / (time.perf_counter() - start))
    return sorted(rates)[2]


def photos_rate():
    transform = T.Compose([T.Resize(224), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = DataLoader(ImageFolder(photos, transform), batch_size=batch, num_workers=0)
    with torch.inference_mode():
        for rounds in range(2):  # the first pass warms the file cache and the allocator
            start, images = time.perf_counter(), 0
            for inputs, _ in loader:
                model(inputs.contiguous(memory_format=torch.channels_last))
                images += len(inputs)
    return images / (time.perf_counter() - start)


print(json.dumps({"forward": forward_rate(), "photos": photos_rate(), "torch": torch.__version__}))
