#!/usr/bin/python3
"""PyTorch parity reference: runs an onnx-trainer recipe in PyTorch and prints its validation accuracy.

Usage:
  /usr/bin/python3 scripts/scenarios/torch_reference.py RECIPE.yaml [--set key=value]... [--run DIR] [--json FILE]

The recipe and its `--set` overrides are read as onnx-trainer reads them (dotted keys, YAML values, an empty
value unsets; paths relative to the recipe's folder). What is mirrored, piece by piece:

- Network: the backbone ONNX file is interpreted as a torch module (Conv, BatchNormalization, Relu, Clip, Add,
  MaxPool, GlobalAveragePool, Flatten, Gemm), with its weights loaded by initializer name: the torchvision
  names our architecture builders use. `cut: head` drops the detected classifier (the last Gemm), an integer
  is a cut point counted as `onnx-trainer inspect` counts them (same rule, ported), a string a tensor name.
  `backbone.architecture` (from-scratch) takes the graph of the run's exported model.onnx (`--run`), i.e. our
  ResNet/MobileNetV2 builders, which are tested against torchvision separately.
- Initialization: the new head (`head.<i>`, `head.out`: nn.Linear on global-average-pooled features) and a
  from-scratch architecture are initialized with a port of .NET's seeded System.Random, draw for draw, so
  both start from the same weights as our trainer (`--torch-init` uses torch's own initializers instead).
- Data: IDX sources (gzip or raw) and image folders, class subsets and names, data.val or a stratified
  seeded data.val_split, the same resize (Pillow bilinear, which our resampler reproduces bit for bit),
  center crop, grayscale replicated to 3 channels, normalization.
- Batches: the same seeded shuffle per epoch (a port of our SplitMix64 DeterministicRandom), so the batch
  order is identical; augmentation (random resized crop, horizontal flip, rotation) is ported draw for draw
  too. Order parity is a convenience, not a requirement: the target is accuracy within 0.5 pp.
- Training: trainable parameters per strategy / fine_tune_last / stages (blocks between cut points),
  BatchNorm frozen = eval mode (running statistics, affine parameters may still train) or train (batch
  statistics, momentum 0.1 running updates) for the layers whose scale trains; SGD (momentum, Nesterov,
  coupled L2) or AdamW (decoupled decay) with no decay on rank <= 1 tensors (biases, norm parameters),
  backbone_lr_scale / lr_scale groups, per-step schedule (linear warmup from 0, constant / step / cosine,
  per stage with a fresh optimizer, as our loop does), label smoothing, class weights, early stopping.
- Reported: per-epoch validation loss/accuracy and the last epoch's validation accuracy (the scenario table
  uses the last epoch; `best` is printed too).
"""
import argparse
import copy
import fnmatch
import gzip
import json
import math
import os
import re
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from onnx import numpy_helper
from PIL import Image

MASK64 = (1 << 64) - 1
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


# --------------------------------------------------------------------------------------------------
# Random streams, ported from the trainer
# --------------------------------------------------------------------------------------------------

def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class DeterministicRandom:
    """src/Trainer/Data/DeterministicRandom.cs: SplitMix64 streams keyed by (seed, purpose, a, b)."""
    SHUFFLE, AUGMENT, SPLIT, DROPOUT = 1, 2, 3, 4

    def __init__(self, seed, purpose, a=0, b=0):
        u = lambda v: v & MASK64
        self.state = _mix(_mix(_mix(u(seed)) ^ purpose) ^ u(a)) ^ _mix(u(u(b) + 0x632BE59BD9B4E019))

    def next_uint64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        return _mix(self.state)

    def next_double(self):
        return (self.next_uint64() >> 11) * (1.0 / (1 << 53))

    def uniform(self, low, high):
        return low + (high - low) * self.next_double()

    def next_int(self, max_exclusive):
        return ((self.next_uint64() >> 32) * max_exclusive) >> 32

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next_int(i + 1)
            items[i], items[j] = items[j], items[i]


def dropout_masks(ratio, widths, count, seed, epoch, batch):
    """src/Trainer/Training/DropoutMasks.cs: one stream per step, masks drawn in head order, 0 or 1/(1 - ratio) in float32."""
    random = DeterministicRandom(seed, DeterministicRandom.DROPOUT, epoch, batch)
    ratio = np.float32(ratio)
    kept = np.float32(1) / (np.float32(1) - ratio)
    masks = []
    for width in widths:
        values = np.array([0.0 if random.next_double() < float(ratio) else kept for _ in range(count * width)], dtype=np.float32)
        masks.append(torch.from_numpy(values.reshape(count, width)))
    return masks


class DotNetRandom:
    """System.Random(int seed) (the seeded, .NET Framework-compatible algorithm: Knuth's subtractive generator)."""
    MBIG, MSEED = 2147483647, 161803398

    def __init__(self, seed):
        seed_array = [0] * 56
        subtraction = self.MBIG if seed == -2147483648 else abs(seed)
        mj = self.MSEED - subtraction
        seed_array[55] = mj
        mk = 1
        ii = 0
        for i in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            seed_array[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += self.MBIG
            mj = seed_array[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                seed_array[i] -= seed_array[1 + n]
                # int32 wrap-around as in C#
                seed_array[i] = (seed_array[i] + 2**31) % 2**32 - 2**31
                if seed_array[i] < 0:
                    seed_array[i] += self.MBIG
        self.seed_array, self.inext, self.inextp = seed_array, 0, 21

    def _internal_sample(self):
        inext = self.inext + 1
        if inext >= 56:
            inext = 1
        inextp = self.inextp + 1
        if inextp >= 56:
            inextp = 1
        ret = self.seed_array[inext] - self.seed_array[inextp]
        if ret == self.MBIG:
            ret -= 1
        if ret < 0:
            ret += self.MBIG
        self.seed_array[inext] = ret
        self.inext, self.inextp = inext, inextp
        return ret

    def next_double(self):
        return self._internal_sample() * (1.0 / self.MBIG)

    def doubles(self, count):
        return np.array([self.next_double() for _ in range(count)], dtype=np.float64)


def dotnet_uniform(random, shape, bound):
    """(NextDouble * 2 - 1) * bound per element, cast to float32 (ClassifierHeadBuilder, LayerWriter)."""
    count = int(np.prod(shape))
    return ((random.doubles(count) * 2 - 1) * bound).astype(np.float32).reshape(shape)


def dotnet_normal_pairs(random, shape, std):
    """LayerWriter.Normal: Box-Muller, two normals (cos, sin) from each pair of draws."""
    count = int(np.prod(shape))
    values = np.empty(count, dtype=np.float32)
    for i in range(0, count, 2):
        radius = math.sqrt(-2 * math.log(1 - random.next_double()))
        angle = 2 * math.pi * random.next_double()
        values[i] = std * radius * math.cos(angle)
        if i + 1 < count:
            values[i + 1] = std * radius * math.sin(angle)
    return values.reshape(shape)


# --------------------------------------------------------------------------------------------------
# Recipe
# --------------------------------------------------------------------------------------------------

def load_recipe(path, overrides):
    with open(path) as f:
        recipe = yaml.safe_load(f) or {}
    for assignment in overrides:
        key, _, text = assignment.partition("=")
        value = yaml.safe_load(text) if text.strip() else None
        parts = key.strip().split(".")
        node = recipe
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                index = int(part)
                if last:
                    node[index] = value
                node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    if not isinstance(node.get(part), (dict, list)):
                        node[part] = {}
                node = node[part]

    def prune(node):  # empty / ~ values are the same as leaving the key out
        if isinstance(node, dict):
            return {k: prune(v) for k, v in node.items() if v is not None and v != ""}
        if isinstance(node, list):
            return [prune(v) for v in node]
        return node

    recipe = prune(recipe)
    base = os.path.dirname(os.path.abspath(path))
    resolve = lambda p: p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))
    for field in ("path", "preprocess"):
        if field in recipe.get("backbone", {}):
            recipe["backbone"][field] = resolve(recipe["backbone"][field])
    for key in ("train", "val"):
        source = recipe["data"].get(key)
        if source:
            for field in ("path", "images", "labels"):
                if field in source:
                    source[field] = resolve(source[field])
    return recipe


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


class Dataset:
    """Images as uint8 arrays (H, W) or (H, W, 3), labels 0..k-1, class names in the trainer's order."""

    def __init__(self, images, labels, classes):
        self.images, self.labels, self.classes = images, np.asarray(labels, dtype=np.int64), list(classes)

    def subset(self, indices):
        return Dataset([self.images[i] for i in indices], self.labels[indices], self.classes)


def open_source(source):
    kind = source.get("kind", "image-folder")
    if kind == "idx":
        images, labels = read_idx(source["images"]), read_idx(source["labels"]).astype(np.int64)
        subset = source.get("classes")
        names = source.get("class_names")
        if subset is None:
            count = int(labels.max()) + 1
            classes = names[:count] if names else [str(i).zfill(len(str(count - 1))) for i in range(count)]
            return Dataset(list(images), labels, classes)
        kept = sorted(subset)  # SelectClasses: ascending label value, relabelled 0..k-1
        relabel = {c: i for i, c in enumerate(kept)}
        indices = [i for i, l in enumerate(labels) if int(l) in relabel]
        if names:
            by_label = dict(zip(subset, names))
            classes = [by_label[c] for c in kept]
        else:
            classes = [str(c) for c in kept]
        return Dataset([images[i] for i in indices], [relabel[int(labels[i])] for i in indices], classes)
    if kind == "image-folder":
        root = source["path"]
        classes = sorted((d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")))
        images, labels = [], []
        for label, name in enumerate(classes):
            files = []
            for folder, _, names in os.walk(os.path.join(root, name)):
                files += [os.path.join(folder, n) for n in names if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"))]
            for path in sorted(files):
                images.append(np.asarray(Image.open(path).convert("RGB")))
                labels.append(label)
        dataset = Dataset(images, labels, classes)
        if source.get("classes"):
            keep = sorted(classes.index(c) for c in source["classes"])
            relabel = {c: i for i, c in enumerate(keep)}
            indices = [i for i, l in enumerate(dataset.labels) if int(l) in relabel]
            dataset = Dataset([images[i] for i in indices], [relabel[int(dataset.labels[i])] for i in indices], [classes[c] for c in keep])
        return dataset
    raise SystemExit(f"data source kind {kind} is not supported by the reference")


def open_data(data, seed):
    train = open_source(data["train"])
    if data.get("val"):
        val = open_source(data["val"])
        index = {name: i for i, name in enumerate(train.classes)}
        val = Dataset(val.images, [index[val.classes[l]] for l in val.labels], train.classes)
        return train, val
    if data.get("val_split"):
        fraction = data["val_split"]
        is_val = np.zeros(len(train.labels), dtype=bool)
        for label in range(len(train.classes)):
            members = [i for i in range(len(train.labels)) if train.labels[i] == label]
            DeterministicRandom(seed, DeterministicRandom.SPLIT, label).shuffle(members)
            take = min(int(math.floor(len(members) * fraction + 0.5)), len(members) - 1)  # round half away from zero
            is_val[members[:max(take, 0)]] = True
        return train.subset(np.flatnonzero(~is_val)), train.subset(np.flatnonzero(is_val))
    return train, None


class Preprocessing:
    def __init__(self, recipe, backbone_input_shape):
        spec = recipe.get("input", {})
        size = spec.get("size") or [backbone_input_shape[2], backbone_input_shape[3]]
        self.height, self.width = int(size[0]), int(size[1])
        self.resize = int(spec.get("resize") or round(min(self.height, self.width) / 0.875))
        channels = spec.get("channels") or ("L" if backbone_input_shape[1] == 1 else "RGB")
        self.gray = channels == "L"
        self.bgr = channels == "BGR"  # tensor channel c reads image channel 2 - c
        scale = np.float32(spec.get("range", 1))  # the pixel value of white
        order = (lambda v: v[::-1]) if self.bgr else (lambda v: v)
        default_mean = [round(sum(IMAGENET_MEAN) / 3, 3)] if self.gray else order(IMAGENET_MEAN)
        default_std = [round(sum(IMAGENET_STD) / 3, 3)] if self.gray else order(IMAGENET_STD)
        self.mean = np.array(spec.get("mean") or [v * float(scale) for v in default_mean], dtype=np.float32)
        self.std = np.array(spec.get("std") or [v * float(scale) for v in default_std], dtype=np.float32)
        self.lookup = [((np.arange(256, dtype=np.float32) / np.float32(255)) * scale - m) / s for m, s in zip(self.mean, self.std)]

    def pil(self, array):
        image = Image.fromarray(array)
        return image.convert("L") if self.gray else image.convert("RGB")

    def resize_center_crop(self, image):
        w, h = image.size
        if w <= h:
            nw, nh = self.resize, int(self.resize * h / w)
        else:
            nw, nh = int(self.resize * w / h), self.resize
        image = image.resize((nw, nh), Image.BILINEAR)
        left, top = int(round((nw - self.width) / 2.0)), int(round((nh - self.height) / 2.0))
        return image.crop((left, top, left + self.width, top + self.height))

    def normalize(self, image):
        pixels = np.asarray(image)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        source = (lambda c: 2 - c) if self.bgr else (lambda c: c)
        return np.stack([self.lookup[c][pixels[:, :, source(c)]] for c in range(pixels.shape[2])])


class Augmenter:
    """SampleTransform.Apply with the same draws: random resized crop, flip (with the recipe's probability), rotation."""

    def __init__(self, preprocessing, augment):
        self.pre = preprocessing
        crop = augment.get("random_resized_crop")
        self.crop = None
        if crop is True:
            self.crop = ((0.08, 1.0), (3 / 4, 4 / 3))
        elif isinstance(crop, dict):
            self.crop = (tuple(crop.get("scale", (0.08, 1.0))), tuple(crop.get("ratio", (3 / 4, 4 / 3))))
        flip = augment.get("horizontal_flip", False)
        self.flip = (0.5 if flip else 0.0) if isinstance(flip, bool) else float(flip)
        self.rotation = float(augment.get("rotation", 0) or 0)
        if augment.get("color_jitter"):
            raise SystemExit("color_jitter is not ported to the reference")
        self.random = bool(self.crop or self.flip > 0 or self.rotation > 0)

    def crop_box(self, width, height, rng):
        area = width * height
        (smin, smax), (rmin, rmax) = self.crop
        log_min, log_max = math.log(rmin), math.log(rmax)
        for _ in range(10):
            target = area * rng.uniform(smin, smax)
            ratio = math.exp(rng.uniform(log_min, log_max))
            w = int(round(math.sqrt(target * ratio)))
            h = int(round(math.sqrt(target / ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = rng.next_int(height - h + 1)
                left = rng.next_int(width - w + 1)
                return (left, top, left + w, top + h)
        ratio = width / height
        cw, ch = width, height
        if ratio < rmin:
            ch = max(1, int(round(width / rmin)))
        elif ratio > rmax:
            cw = max(1, int(round(height * rmax)))
        left, top = (width - cw) // 2, (height - ch) // 2
        return (left, top, left + cw, top + ch)

    def apply(self, array, rng):
        image = self.pre.pil(array)
        if self.crop:
            box = self.crop_box(image.size[0], image.size[1], rng)
            image = image.resize((self.pre.width, self.pre.height), Image.BILINEAR, box=box)
        else:
            image = self.pre.resize_center_crop(image)
        if self.flip > 0 and rng.next_double() < self.flip:
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        if self.rotation > 0:
            image = rotate(image, rng.uniform(-self.rotation, self.rotation))
        return self.pre.normalize(image)


def rotate(image, degrees):
    """ImageRotation.Rotate: inverse mapping about the center, bilinear, black outside."""
    pixels = np.asarray(image).astype(np.float64)
    squeeze = pixels.ndim == 2
    if squeeze:
        pixels = pixels[:, :, None]
    h, w, _ = pixels.shape
    radians = degrees * math.pi / 180
    cos, sin = math.cos(radians), math.sin(radians)
    cx, cy = (w - 1) * 0.5, (h - 1) * 0.5
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xs - cx, ys - cy
    sx = cos * dx + sin * dy + cx
    sy = -sin * dx + cos * dy + cy
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = (sx - x0)[:, :, None], (sy - y0)[:, :, None]

    def sample(x, y):
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        out = np.zeros((h, w, pixels.shape[2]))
        out[inside] = pixels[y[inside], x[inside]]
        return out

    value = ((1 - fx) * (1 - fy) * sample(x0, y0) + fx * (1 - fy) * sample(x0 + 1, y0)
             + (1 - fx) * fy * sample(x0, y0 + 1) + fx * fy * sample(x0 + 1, y0 + 1))
    out = np.clip((value + 0.5).astype(int), 0, 255).astype(np.uint8)
    return Image.fromarray(out[:, :, 0] if squeeze else out)


# --------------------------------------------------------------------------------------------------
# Network: the ONNX backbone as a torch module
# --------------------------------------------------------------------------------------------------

class OnnxGraph:
    def __init__(self, model):
        graph = model.graph
        self.initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = [(n.op_type, list(n.input), list(n.output), {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}, n.name)
                      for n in graph.node]
        self.input = next(i for i in graph.input if i.name not in self.initializers)
        self.input_shape = [d.dim_value if d.HasField("dim_value") else -1 for d in self.input.type.tensor_type.shape.dim]
        self.outputs = [o.name for o in graph.output]

    def classifier_features(self):
        """ClassifierHead.Find: the input of the last linear layer behind the first output (through trailing no-ops)."""
        producers = {out: node for node in self.nodes for out in node[2]}
        value = self.outputs[0]
        while value in producers and producers[value][0] in ("Identity", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Squeeze", "Dropout"):
            value = producers[value][1][0]
        node = producers[value]
        if node[0] == "Gemm":
            return node[1][0]
        if node[0] == "Add":
            for v in node[1]:
                if v in producers and producers[v][0] == "MatMul":
                    return producers[v][1][0]
        if node[0] == "MatMul":
            return node[1][0]
        raise SystemExit("the backbone does not end in a linear classifier")

    def needed_nodes(self, target):
        producers = {out: i for i, node in enumerate(self.nodes) for out in node[2]}
        needed, stack = set(), [target]
        while stack:
            v = stack.pop()
            if v in producers and producers[v] not in needed:
                needed.add(producers[v])
                stack.extend(x for x in self.nodes[producers[v]][1] if x)
        return [self.nodes[i] for i in sorted(needed)]

    def cut_points(self, nodes, outputs):
        """CutPoint.Find over a node list in topological order: the single data output of a node after which no
        earlier activation is read any more (outputs of the graph excluded)."""
        position = {}
        users = {}
        for i, node in enumerate(nodes):
            for v in node[1]:
                users.setdefault(v, []).append(i)
        data = {self.input.name}
        for node in nodes:
            if any(v in data for v in node[1]):
                data.update(node[2])

        def last_use(v):
            return math.inf if v in outputs else max(users.get(v, [-1]))

        reach = last_use(self.input.name)
        points = []
        for i, node in enumerate(nodes):
            produced = [o for o in node[2] if o in data]
            used = [o for o in node[2] if o in users or o in outputs]
            if reach <= i and len(produced) == 1 and len(used) == 1 and produced[0] not in outputs:
                points.append((produced[0], i))
            for o in produced:
                reach = max(reach, last_use(o))
        return points


class Net(nn.Module):
    """Backbone nodes up to the features tensor, then the new head."""

    def __init__(self, graph, nodes, features, classes, hidden, weights):
        super().__init__()
        self.nodes, self.features = nodes, features
        self.params = {}  # original name -> nn.Parameter
        self.bns = nn.ModuleDict()
        self.constants = {}
        self._registry = nn.ParameterDict()
        self.bn_names = {}
        for op, inputs, outputs, attrs, _ in nodes:
            if op == "BatchNormalization":
                x, scale, bias, mean, var = inputs
                bn = nn.BatchNorm2d(weights[scale].shape[0], eps=attrs.get("epsilon", 1e-5), momentum=1 - attrs.get("momentum", 0.9))
                with torch.no_grad():
                    bn.running_mean.copy_(torch.from_numpy(weights[mean].copy()))
                    bn.running_var.copy_(torch.from_numpy(weights[var].copy()))
                    bn.weight.copy_(torch.from_numpy(weights[scale].copy()))
                    bn.bias.copy_(torch.from_numpy(weights[bias].copy()))
                self.bns[self.key(scale)] = bn
                self.params[scale], self.params[bias] = bn.weight, bn.bias
                self.bn_names[scale] = (mean, var)
            else:
                for slot, v in enumerate(inputs):
                    if v in weights and v not in self.params and v not in self.constants:
                        if op == "Clip" and slot > 0:
                            self.constants[v] = torch.from_numpy(weights[v].copy())
                        else:
                            p = nn.Parameter(torch.from_numpy(weights[v].copy()))
                            self.params[v] = p
                            self._registry[self.key(v)] = p
        self.feature_rank = None
        self.head_names = []
        self.head_layers = [*hidden, classes]
        self.head_input = None
        self.classes = classes
        self.dropout_masks = None  # set per training step when the recipe's head has dropout
        self.flatten = False  # head.pooling: flatten
        self.preprocess = lambda x: x  # backbone.preprocess: a graph in front of the backbone (imagenet_backbone.GraphPreprocessing)

    @staticmethod
    def key(name):
        return name.replace(".", "__")

    def build_head(self, width, init_random):
        layers = []
        for i, out in enumerate(self.head_layers):
            name = "head.out" if i == len(self.head_layers) - 1 else f"head.{i}"
            bound = 1 / math.sqrt(width)
            if init_random is not None:
                w = torch.from_numpy(dotnet_uniform(init_random, (out, width), bound))
                b = torch.from_numpy(dotnet_uniform(init_random, (out,), bound))
            else:
                lin = nn.Linear(width, out)
                w, b = lin.weight.data.clone(), lin.bias.data.clone()
            pw, pb = nn.Parameter(w), nn.Parameter(b)
            self.params[f"{name}.weight"], self.params[f"{name}.bias"] = pw, pb
            self._registry[self.key(f"{name}.weight")], self._registry[self.key(f"{name}.bias")] = pw, pb
            self.head_names += [f"{name}.weight", f"{name}.bias"]
            layers.append((pw, pb))
            width = out
        self.head = layers

    def backbone(self, x, input_name):
        values = {input_name: self.preprocess(x)}
        get = lambda v: values[v] if v in values else (self.params[v] if v in self.params else self.constants[v])
        for op, inputs, outputs, a, _ in self.nodes:
            if op == "Conv":
                pads = a.get("pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise SystemExit("asymmetric padding is not supported")
                y = F.conv2d(get(inputs[0]), get(inputs[1]), get(inputs[2]) if len(inputs) > 2 and inputs[2] else None,
                             stride=a.get("strides", [1, 1]), padding=pads[:2], dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "BatchNormalization":
                y = self.bns[self.key(inputs[1])](get(inputs[0]))
            elif op == "Relu":
                y = F.relu(get(inputs[0]))
            elif op == "Clip":
                y = torch.clamp(get(inputs[0]), float(get(inputs[1])), float(get(inputs[2])))
            elif op == "Add":
                y = get(inputs[0]) + get(inputs[1])
            elif op == "Mul":
                y = get(inputs[0]) * get(inputs[1])
            elif op == "MaxPool":
                pads = a.get("pads", [0, 0, 0, 0])
                y = F.max_pool2d(get(inputs[0]), a["kernel_shape"], a.get("strides", [1, 1]), pads[:2])
            elif op == "AveragePool":
                pads = a.get("pads", [0, 0, 0, 0])
                y = F.avg_pool2d(get(inputs[0]), a["kernel_shape"], a.get("strides", [1, 1]), pads[:2], count_include_pad=bool(a.get("count_include_pad", 0)))
            elif op == "GlobalAveragePool":
                y = get(inputs[0]).mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(get(inputs[0]), a.get("axis", 1))
            elif op == "Gemm":
                w = get(inputs[1])
                y = get(inputs[0]) @ (w.t() if a.get("transB", 0) else w)
                if len(inputs) > 2 and inputs[2]:
                    y = y + get(inputs[2])
            else:
                raise SystemExit(f"operator {op} is not supported by the reference interpreter")
            values[outputs[0]] = y
        return values[self.features]

    def forward(self, x, input_name):
        return self.head_forward(self.backbone(x, input_name))

    def pool(self, x):
        """Feature maps to the head's input: global average pooling, or flattening with head.pooling: flatten."""
        if x.dim() != 4:
            return x
        return torch.flatten(x, 1) if self.flatten else x.mean(dim=(2, 3))

    def head_forward(self, x):
        x = self.pool(x)
        for i, (w, b) in enumerate(self.head):
            if self.dropout_masks is not None:
                x = x * self.dropout_masks[i]
            x = F.linear(x, w, b)
            if i < len(self.head) - 1:
                x = F.relu(x)
        return x


def parameter_names(net, nodes):
    """Parameters.Of: float initializers read as weights (not running statistics, not Clip bounds), in first-use order."""
    ordered = []
    for op, inputs, _, _, _ in nodes:
        for slot, v in enumerate(inputs):
            if v in net.params and v not in ordered and not (op == "BatchNormalization" and slot > 2):
                ordered.append(v)
    return ordered


def blocks_of(graph, net, nodes, backbone_params):
    """ParameterBlocks.AtBoundaries over the assembled classifier's cut points (backbone parameters only)."""
    head_nodes = []
    last = net.features
    # The head as ClassifierHeadBuilder appends it (GlobalAveragePool + Flatten for feature maps, Gemm(+Relu)s).
    head_nodes.append(("GlobalAveragePool", [last], ["__gap"], {}, ""))
    head_nodes.append(("Flatten", ["__gap"], ["__flat"], {}, ""))
    last = "__flat"
    for i in range(len(net.head_layers)):
        head_nodes.append(("Gemm", [last], [f"__gemm{i}"], {}, ""))
        last = f"__gemm{i}"
        if i < len(net.head_layers) - 1:
            head_nodes.append(("Relu", [last], [f"__relu{i}"], {}, ""))
            last = f"__relu{i}"
    all_nodes = nodes + head_nodes
    cut_producers = {i for _, i in graph.cut_points(all_nodes, {last})}
    ordered, starts, remaining = [], [], set(backbone_params)
    for i, (op, inputs, _, _, _) in enumerate(all_nodes):
        for v in inputs:
            if v in remaining:
                remaining.discard(v)
                ordered.append(v)
        if i in cut_producers:
            starts.append(len(ordered))
    bounds = sorted(set([s for s in starts if 0 < s < len(ordered)] + [len(ordered)]))
    blocks, begin = [], 0
    for end in bounds:
        if end > begin:
            blocks.append(ordered[begin:end])
        begin = end
    return blocks


def glob_match(pattern, name):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def rate_at(step, kind, base, total, warmup, step_size, gamma, min_lr):
    """LearningRateSchedule.RateAt."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = step - warmup
    span = max(total - warmup, 1)
    if kind == "constant":
        return base
    if kind == "step":
        return base * gamma ** (t // max(step_size, 1))
    if kind == "cosine":
        return min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * min(t, span) / span))
    raise SystemExit(f"unknown schedule {kind}")


def loss_fn(logits, labels, smoothing, weights):
    classes = logits.shape[1]
    off, on = smoothing / classes, 1 - smoothing + smoothing / classes
    target = torch.full_like(logits, off)
    target.scatter_(1, labels[:, None], on)
    logp = F.log_softmax(logits, dim=1)
    if weights is None:
        return -(target * logp).sum(1).mean()
    target = target * weights
    return -(target * logp).sum() / weights[labels].sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--run", help="our run folder (its model.onnx gives the graph of backbone.architecture and a cross-check of the cut)")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torchvision", action="store_true",
                        help="run the backbone as torchvision's ResNet with the file's weights mapped in (imagenet_backbone.py) instead of interpreting its graph")
    parser.add_argument("--torch-init", action="store_true", help="initialize the head with torch's nn.Linear instead of the ported .NET stream")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    started = time.time()
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))

    recipe = load_recipe(args.recipe, args.overrides)
    seed = int(recipe.get("seed", 0))
    strategy = recipe.get("strategy", "feature-extraction")
    backbone_spec = recipe["backbone"]
    run_model = onnx.load(os.path.join(args.run, "model.onnx")) if args.run else None

    # ---- graph and weights
    if "path" in backbone_spec:
        graph = OnnxGraph(onnx.load(backbone_spec["path"]))
    else:
        if run_model is None:
            raise SystemExit("backbone.architecture: give --run (the graph comes from our run's model.onnx)")
        graph = OnnxGraph(run_model)
    cut = backbone_spec.get("cut", "head")
    if "path" not in backbone_spec:
        # The exported classifier: our head reads the features; cut there.
        features = _run_features(run_model)
    elif cut == "head":
        features = graph.classifier_features()
    elif isinstance(cut, int):
        all_nodes = graph.nodes
        points = graph.cut_points(all_nodes, set(graph.outputs))
        features = points[cut][0]
    else:
        features = str(cut)
    if run_model is not None and "path" in backbone_spec:
        ours = _run_features(run_model)
        if ours != features:
            raise SystemExit(f"cut mismatch: the reference cuts at '{features}', our run at '{ours}'")
    nodes = graph.needed_nodes(features)
    weights = dict(graph.initializers)

    # ---- data
    train, val = open_data(recipe["data"], seed)
    classes = len(train.classes)
    input_shape = graph.input_shape
    pre = Preprocessing(recipe, input_shape)
    augment = Augmenter(pre, recipe["data"].get("augment", {}) or {})
    say(f"train {len(train.labels)} images, val {0 if val is None else len(val.labels)}, classes {train.classes}")
    plain = lambda ds: torch.from_numpy(np.stack([pre.normalize(pre.resize_center_crop(pre.pil(img))) for img in ds.images]))
    train_plain = plain(train) if not augment.random else None
    val_x = plain(val) if val is not None else None
    val_y = torch.from_numpy(val.labels) if val is not None else None
    train_y = torch.from_numpy(train.labels)

    # ---- initialization
    head = recipe.get("head", {}) or {}
    hidden = list(head.get("hidden", []) or [])
    dropout = float(head.get("dropout", 0) or 0)
    from_scratch = strategy == "from-scratch"
    if from_scratch and "path" not in backbone_spec:
        reinit_architecture(graph, nodes, weights, seed)
    net = Net(graph, nodes, features, classes, hidden, weights)
    net.flatten = (head.get("pooling") or "average") == "flatten"
    if backbone_spec.get("preprocess") or args.torchvision:
        import imagenet_backbone  # torch and onnx are loaded already; this module needs them too
        if backbone_spec.get("preprocess"):
            net.preprocess = imagenet_backbone.GraphPreprocessing(backbone_spec["preprocess"])
        if args.torchvision:
            imagenet_backbone.run_as_torchvision(net, imagenet_backbone.MappedResNet18(backbone_spec["path"]))
            say("backbone: torchvision ResNet (BasicBlock) with the ONNX file's weights (scripts/scenarios/imagenet_backbone.py)")
    net.eval()
    with torch.no_grad():
        width = net.pool(net.backbone(torch.zeros(1, input_shape[1], pre.height, pre.width), graph.input.name)).shape[1]
    net.build_head(width, None if args.torch_init else DotNetRandom(seed))
    if from_scratch and "path" in backbone_spec:
        torch_reinit(net)
        say("note: re-initializing a pretrained file uses torch's initializers (the .NET stream is not ported for this case)")

    backbone_params = parameter_names(net, nodes)
    blocks = blocks_of(graph, net, nodes, backbone_params)

    # ---- stages
    optimizer_spec = recipe.get("optimizer", {}) or {}
    kind = optimizer_spec.get("kind", "sgd")
    base_lr = float(optimizer_spec.get("learning_rate", 0.01 if kind == "sgd" else 0.001))
    stages = []
    if recipe.get("stages"):
        for i, s in enumerate(recipe["stages"]):
            if "trainable" in s:
                chosen = [n for n in backbone_params if any(glob_match(p, n) for p in s["trainable"])]
            else:
                k = int(s["unfreeze_last"])
                chosen = [n for b in blocks[len(blocks) - k:] for n in b] if k > 0 else []
            stages.append((int(s["epochs"]), float(s.get("learning_rate", base_lr)), chosen))
    else:
        epochs = int(recipe.get("epochs", 10))
        if recipe.get("trainable"):
            chosen = [n for n in backbone_params if any(glob_match(p, n) for p in recipe["trainable"])]
        elif strategy in ("feature-extraction", "truncate"):
            chosen = []
        elif strategy == "fine-tune" and recipe.get("fine_tune_last"):
            chosen = [n for b in blocks[len(blocks) - int(recipe["fine_tune_last"]):] for n in b]
        else:
            chosen = list(backbone_params)
        stages.append((epochs, base_lr, chosen))

    bn_policy = recipe.get("batch_norm", "train" if from_scratch else "frozen")
    batch_size = int(recipe.get("batch_size", 32))
    smoothing = float(recipe.get("label_smoothing", 0))
    cw = recipe.get("class_weights", "none")
    if cw == "balanced":
        counts = np.bincount(train.labels, minlength=classes)
        weights_t = torch.tensor([len(train.labels) / (classes * n) if n else 0 for n in counts], dtype=torch.float32)
    elif isinstance(cw, list):
        weights_t = torch.tensor(cw, dtype=torch.float32)
    else:
        weights_t = None
    schedule = recipe.get("schedule", {}) or {}
    early = recipe.get("early_stopping")
    early_metric = (early or {}).get("metric", "val_loss") if early else None
    patience = int((early or {}).get("patience", 5)) if early else 0
    higher = early_metric != "val_loss"
    best_value = -math.inf if higher else math.inf
    without = 0
    per_epoch = max(1, math.ceil(len(train.labels) / batch_size))
    # A frozen backbone without augmentation (feature extraction, truncate) is run once, as our loop caches it.
    cached = all(not chosen for _, _, chosen in stages) and not augment.random
    if cached:
        net.eval()
        with torch.no_grad():
            features = lambda x: torch.cat([net.backbone(x[i:i + 256], graph.input.name) for i in range(0, len(x), 256)])
            train_plain = features(train_plain)
            val_x = features(val_x) if val_x is not None else None
        model = net.head_forward
    else:
        model = lambda x: net(x, graph.input.name)
    history = []
    stopped = False
    epoch = 0
    for stage_index, (stage_epochs, stage_lr, chosen) in enumerate(stages):
        if stopped:
            break
        trainable = chosen + net.head_names
        chosen_set = set(chosen)
        for name, p in net.params.items():
            p.requires_grad_(name in trainable)
        train_bn = bn_policy == "train"
        bn_training = {scale for scale in net.bn_names if train_bn and scale in trainable}
        groups = {}
        for name in trainable:
            scale = 1.0
            rule = next((r for r in optimizer_spec.get("lr_scale", []) or [] if glob_match(r["pattern"], name)), None)
            if rule is not None:
                scale = float(rule["scale"])
            elif name in chosen_set:
                scale = float(optimizer_spec.get("backbone_lr_scale", 1))
            decay = net.params[name].dim() > 1
            groups.setdefault((scale, decay), []).append(net.params[name])
        wd = float(optimizer_spec.get("weight_decay", 0 if kind == "sgd" else 0.01))
        param_groups = [{"params": ps, "scale": s, "weight_decay": wd if d else 0.0, "lr": 0.0} for (s, d), ps in groups.items()]
        if kind == "sgd":
            opt = torch.optim.SGD(param_groups, lr=0.0, momentum=float(optimizer_spec.get("momentum", 0.9)),
                                  nesterov=bool(optimizer_spec.get("nesterov", False)))
        else:
            betas = optimizer_spec.get("betas", [0.9, 0.999])
            opt = torch.optim.AdamW(param_groups, lr=0.0, betas=(float(betas[0]), float(betas[1])), eps=float(optimizer_spec.get("eps", 1e-8)))
        total = stage_epochs * per_epoch
        warmup = int(round(float(schedule.get("warmup_epochs", 0)) * per_epoch))
        step_size = int(schedule.get("step_size", 1)) * per_epoch
        sched = lambda step: rate_at(step, schedule.get("kind", "constant"), stage_lr, total, warmup, step_size,
                                     float(schedule.get("gamma", 0.1)), float(schedule.get("min_lr", 0)))
        step = 0
        for _ in range(stage_epochs):
            clock = time.time()
            order = list(range(len(train.labels)))
            DeterministicRandom(seed, DeterministicRandom.SHUFFLE, epoch).shuffle(order)
            for scale, bn in net.bns.items():
                bn.train(scale.replace("__", ".") in bn_training)
            loss_sum, correct, seen = 0.0, 0, 0
            lr = sched(step)
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                if augment.random:
                    x = torch.from_numpy(np.stack([augment.apply(train.images[i], DeterministicRandom(seed, DeterministicRandom.AUGMENT, epoch, i)) for i in idx]))
                else:
                    x = train_plain[idx]
                y = train_y[idx]
                lr = sched(step)
                for g in opt.param_groups:
                    g["lr"] = lr * g["scale"]
                if dropout > 0:
                    net.dropout_masks = dropout_masks(dropout, [w.shape[1] for w, _ in net.head], len(idx), seed, epoch, start // batch_size)
                logits = model(x)
                net.dropout_masks = None
                loss = loss_fn(logits, y, smoothing, weights_t)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                loss_sum += loss.item() * len(idx)
                correct += (logits.argmax(1) == y).sum().item()
                seen += len(idx)
            metrics = {"epoch": epoch, "stage": stage_index, "learning_rate": lr, "train_loss": loss_sum / seen, "train_accuracy": correct / seen}
            if val_x is not None:
                metrics.update(evaluate(net, model, val_x, val_y, batch_size, smoothing, weights_t))
            metrics["seconds"] = time.time() - clock
            history.append(metrics)
            say(f"epoch {epoch + 1}  lr {lr:.3g}  train loss {metrics['train_loss']:.4f} acc {metrics['train_accuracy']:.3%}"
                + (f"  val loss {metrics['val_loss']:.4f} acc {metrics['val_accuracy']:.3%}" if val_x is not None else "")
                + f"  {metrics['seconds']:.1f}s")
            epoch += 1
            if early and val_x is not None:
                value = metrics[early_metric]
                if (value > best_value) if higher else (value < best_value):
                    best_value, without = value, 0
                else:
                    without += 1
                if patience > 0 and without >= patience:
                    say(f"early stopping: {early_metric} has not improved for {patience} epochs")
                    stopped = True
                    break

    result = {"recipe": args.recipe, "overrides": args.overrides, "epochs": history, "seconds": time.time() - started}
    if history and "val_accuracy" in history[-1]:
        result["val_accuracy"] = history[-1]["val_accuracy"]
        result["best_val_accuracy"] = max(h["val_accuracy"] for h in history)
        print(f"torch validation accuracy {result['val_accuracy']:.4%} (last epoch; best {result['best_val_accuracy']:.4%})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


def evaluate(net, model, x, y, batch_size, smoothing, weights):
    was = {k: bn.training for k, bn in net.bns.items()}
    net.eval()
    loss, correct, top5, seen = 0.0, 0, 0, 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logits = model(xb)
            loss += loss_fn(logits, yb, smoothing, weights).item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            k = min(5, logits.shape[1])
            top5 += (logits.topk(k, 1).indices == yb[:, None]).any(1).sum().item()
            seen += len(yb)
    for k, bn in net.bns.items():
        bn.train(was[k])
    return {"val_loss": loss / seen, "val_accuracy": correct / seen, "val_top5": top5 / seen}


def _run_features(model):
    """The tensor our run's head reads: the input of the GlobalAveragePool (or first Gemm) feeding head.*."""
    g = OnnxGraph(model)
    producers = {out: node for node in g.nodes for out in node[2]}
    first = next(n for n in g.nodes if n[0] == "Gemm" and any(i.startswith("head.") for i in n[1][1:]))
    value = first[1][0]
    # ClassifierHeadBuilder's own pooling (nodes named head/...) and dropout (head.<layer>.dropout) are part of the head.
    while value in producers and (producers[value][0] in ("Flatten", "GlobalAveragePool") and producers[value][4].startswith("head/")
                                  or producers[value][0] == "Dropout" and producers[value][4].startswith("head.")):
        value = producers[value][1][0]
    return value


def reinit_architecture(graph, nodes, weights, seed):
    """A from-scratch architecture as LayerWriter builds it: one System.Random(seed), conv kernels He-normal
    (fan_out, Box-Muller pairs) in build order (the initializer order of the file; the node order is topological and
    differs), fresh BatchNorms (1, 0, running 0 and 1)."""
    random = DotNetRandom(seed)
    kernels = {inputs[1] for op, inputs, _, _, _ in nodes if op == "Conv"}
    for name in graph.initializers:
        if name in kernels:
            shape = weights[name].shape
            fan_out = shape[0] * int(np.prod(shape[2:]))
            weights[name] = dotnet_normal_pairs(random, shape, math.sqrt(2.0 / fan_out))
    for op, inputs, _, _, _ in nodes:
        if op == "BatchNormalization":
            c = weights[inputs[1]].shape
            weights[inputs[1]], weights[inputs[2]] = np.ones(c, np.float32), np.zeros(c, np.float32)
            weights[inputs[3]], weights[inputs[4]] = np.zeros(c, np.float32), np.ones(c, np.float32)


def torch_reinit(net):
    for op, inputs, _, _, _ in net.nodes:
        if op == "Conv":
            nn.init.kaiming_normal_(net.params[inputs[1]], mode="fan_out", nonlinearity="relu")
        elif op == "BatchNormalization":
            bn = net.bns[net.key(inputs[1])]
            nn.init.ones_(bn.weight)
            nn.init.zeros_(bn.bias)
            bn.reset_running_stats()


if __name__ == "__main__":
    main()
