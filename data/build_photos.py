#!/usr/bin/python3
"""Builds data/photos/ (ImageFolder train/ and val/) from Debian's tuxpaint-stamps-default photo cut-outs.

The stamps are GPL-licensed art, so the sample is built at setup time (scripts/setup.sh) and never committed.
Each class is one stamp folder (its subfolders included, `cartoon` folders left out). Only photographs are kept:
at least 200 distinct colors and at most half of the horizontally neighboring opaque pixel pairs identical
(flat-filled drawings and silhouettes fail one or the other). Transparency is composited onto white and each
cut-out is centered on a white square, so a center crop keeps the whole object. The split is seeded: a quarter
of each class (at least one image) goes to val/.

Run with Debian's interpreter (python3-pil, python3-numpy):
    /usr/bin/python3 data/build_photos.py [--stamps DIR] [--out DIR]
"""
import argparse
import os
import random
import shutil

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
STAMPS = "/usr/share/tuxpaint/stamps"
CLASSES = {
    "bird": "animals/birds",
    "mammal": "animals/mammals",
    "fruit": "food/fruit",
    "vegetable": "food/vegetables",
    "flower": "plants/flowers",
}
VAL_FRACTION = 0.25
SEED = 0
MIN_COLORS = 200
MAX_FLAT_FRACTION = 0.5


def stamp_files(folder):
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "cartoon")
        for name in sorted(files):
            if name.lower().endswith(".png"):
                yield os.path.join(root, name)


def is_photograph(rgba):
    pixels = np.asarray(rgba)
    opaque = pixels[..., 3] > 128
    colors = len(np.unique(pixels[opaque][:, :3], axis=0)) if opaque.any() else 0
    pairs = (pixels[:, :-1, 3] > 250) & (pixels[:, 1:, 3] > 250)
    same = (pixels[:, :-1, :3] == pixels[:, 1:, :3]).all(axis=-1)
    flat = same[pairs].mean() if pairs.any() else 1.0
    return colors >= MIN_COLORS and flat <= MAX_FLAT_FRACTION


def on_white_square(rgba):
    side = max(rgba.size)
    canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    canvas.alpha_composite(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
    return canvas.convert("RGB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stamps", default=STAMPS)
    parser.add_argument("--out", default=os.path.join(HERE, "photos"))
    args = parser.parse_args()
    if not os.path.isdir(args.stamps):
        raise SystemExit(f"{args.stamps}: not found; install Debian's tuxpaint-stamps-default (scripts/setup.sh)")
    shutil.rmtree(args.out, ignore_errors=True)
    rng = random.Random(SEED)
    counts = {}
    for label, folder in CLASSES.items():
        photos = []
        for path in stamp_files(os.path.join(args.stamps, folder)):
            with Image.open(path) as image:
                rgba = image.convert("RGBA")
            if is_photograph(rgba):
                photos.append((path, rgba))
        rng.shuffle(photos)
        val_count = max(1, round(len(photos) * VAL_FRACTION))
        for index, (path, rgba) in enumerate(photos):
            split = "val" if index < val_count else "train"
            target = os.path.join(args.out, split, label)
            os.makedirs(target, exist_ok=True)
            # Stamps in different subfolders may share a name: the subfolder path becomes part of it.
            name = os.path.relpath(path, os.path.join(args.stamps, folder)).replace(os.sep, "_")
            on_white_square(rgba).save(os.path.join(target, name))
        counts[label] = (len(photos) - val_count, val_count)
    total = sum(t + v for t, v in counts.values())
    print(f"{args.out}: {total} photos, " + ", ".join(f"{k} {t}+{v}" for k, (t, v) in counts.items()) + " (train+val)")


if __name__ == "__main__":
    main()
