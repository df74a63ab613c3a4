#!/usr/bin/python3
"""Writes the shipped sample data: Fashion-MNIST target-task images as PNG files in ImageFolder layout.

Source task (what the shipped backbones are pretrained on): classes 0-4, T-shirt/top, Trouser, Pullover,
Dress, Coat. Target task (what the quickstart fine-tunes on): classes 5-9, Sandal, Shirt, Sneaker, Bag,
Ankle boot. Train images come from Fashion-MNIST's training file, val images from its test file, the
first N of each class in file order, so the output is deterministic.

Usage: /usr/bin/python3 data/generate_fashion_target.py [--train N] [--val N]
Needs Debian's dataset-fashion-mnist (IDX files under /usr/share/datasets/fashion-mnist).
"""
import argparse
import gzip
import pathlib
import shutil

import numpy as np
from PIL import Image

SOURCE = pathlib.Path("/usr/share/datasets/fashion-mnist")
NAMES = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"]
TARGET_CLASSES = [5, 6, 7, 8, 9]


def read_idx(images, labels):
    with gzip.open(SOURCE / images) as f:
        pixels = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(SOURCE / labels) as f:
        classes = np.frombuffer(f.read(), np.uint8, offset=8)
    return pixels, classes


def write(split, pixels, classes, per_class, root):
    for label in TARGET_CLASSES:
        folder = root / split / NAMES[label]
        folder.mkdir(parents=True)
        for i, index in enumerate(np.flatnonzero(classes == label)[:per_class]):
            Image.fromarray(pixels[index], mode="L").save(folder / f"{index:05d}.png", optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=80, help="training images per class")
    parser.add_argument("--val", type=int, default=40, help="validation images per class")
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent / "fashion-target"
    if root.exists():
        shutil.rmtree(root)
    write("train", *read_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), args.train, root)
    write("val", *read_idx("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), args.val, root)
    files = list(root.rglob("*.png"))
    print(f"wrote {len(files)} images, {sum(f.stat().st_size for f in files) / 1e6:.2f} MB, to {root}")


if __name__ == "__main__":
    main()
