#!/usr/bin/env python3
"""PyTorch peer of the ONNX Runtime training-step benchmark (benchmarks/TrainingStep).

Three jobs, all deterministic (fixed seeds):
  export   writes models/<name>.onnx (MobileNetV2 width 1.0 and ResNet-18 by default; MobileNetV3-Large,
           EfficientNet-B0, ShuffleNetV2 1.0, DenseNet-121 and ConvNeXt-Tiny on request; 1000 classes, 224x224, random
           init) and models/<name>.json (the trainable initializer names per setting), exported the way
           tests/fixtures/generate_models.py exports fixtures: opset 17, TrainingMode.PRESERVE, no constant
           folding, input "input" with batch axis "N", output "logits".
  time     times one training step (forward + backward of mean cross-entropy, no optimizer step) with
           eval-mode BatchNorm (our exported graphs use inference BatchNorm) in two settings, "last-block"
           and "full"; prints one JSON object on the last line of stdout.
  serve    the same step on request, one JSON line in and out over stdin/stdout, so that the C# benchmark
           can alternate ORT and PyTorch steps (both see the same machine load on a shared machine):
             {"op": "prepare", "model": M, "setting": S, "batch": B, "warmup": W} -> {"ok": true, ...}
             {"op": "step"} -> {"ms": t}      (one timed step of the prepared case)
             {"op": "memory"} -> {"baseline_rss": b, "peak_rss": p, "rss": r}   (bytes: VmRSS before the first case,
                                 VmHWM, VmRSS; the benchmark starts one process per case, so the peak is the case's)

Model and input are in channels_last memory format by default (--memory-format contiguous for torch's default
NCHW): PyTorch's own advice for CNNs on CPU, and its fastest state here (batch 16, 2 threads, ms, contiguous ->
channels_last: ResNet-18 full 600-606 -> 529-552, last-block 276-280 -> 218-222; MobileNetV2 full 555-623 -> 409-413,
last-block 210-213 -> 131-134), so the stronger baseline.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, libopenblas0-pthread installed). Never part of the
unit tests; the C# benchmark calls `serve` when given --with-torch, one process per memory format (with
OMP_WAIT_POLICY=PASSIVE).
"""
import argparse
import json
import os
import statistics
import sys
import time

# glibc malloc kept from handing activation buffers back to the OS after every step (mmap threshold at its 32 MiB
# maximum, no heap trimming), as jemalloc or tcmalloc would: PyTorch's fastest state. With the defaults the ResNet-18
# full step ran at 690-785 ms when it came first in a process and 586-616 ms once earlier cases had grown glibc's
# dynamic thresholds; tuned, 535-612 ms from the start. glibc reads these at startup, hence the re-exec.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "68719476736"}


def ensure_tuned_malloc():
    if any(os.environ.get(k) != v for k, v in TUNED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **TUNED_MALLOC})


# Re-exec before the heavy imports (torch takes ~2 s), only when run as a script, not on import.
if __name__ == "__main__":
    ensure_tuned_malloc()

import torch
import torch.nn.functional as F
import torchvision


HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")
SIZE = 224
CLASSES = 1000

# name -> (builder, trainable prefixes of the last-block setting). Prefixes end in "." so that
# "features.1" can never match "features.17".
MODELS = {
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(width_mult=1.0, num_classes=CLASSES),
                     ["features.17.", "features.18.", "classifier."]),
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=CLASSES), ["layer4.", "fc."]),
    # Further backbones, timed on request (--models): the last block is the last stage's last unit + the head.
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(num_classes=CLASSES),
                           ["features.15.", "features.16.", "classifier."]),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(num_classes=CLASSES),
                        ["features.7.", "features.8.", "classifier."]),
    "shufflenet_v2_x1_0": (lambda: torchvision.models.shufflenet_v2_x1_0(num_classes=CLASSES),
                           ["stage4.3.", "conv5.", "fc."]),
    "densenet121": (lambda: torchvision.models.densenet121(num_classes=CLASSES),
                    ["features.denseblock4.denselayer16.", "features.norm5.", "classifier."]),
    "convnext_tiny": (lambda: torchvision.models.convnext_tiny(num_classes=CLASSES), ["features.7.2.", "classifier."]),
}
DEFAULT_MODELS = ["mobilenet_v2", "resnet18"]  # the two the targets name
SETTINGS = ("last-block", "full")


def seed_for(name):
    # Stable across runs and Python versions (str hash is salted).
    return sum((i + 1) * ord(c) for i, c in enumerate(name)) % (2**31)


def build(name):
    """The model in eval mode with the same weights every time (the export and the timing use one recipe)."""
    seed = seed_for(name)
    torch.manual_seed(seed)
    model = MODELS[name][0]().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        # Parameters whose elements are all equal at init (BN weight=1, bias=0) get noise: the exporter
        # deduplicates equal initializers in eval mode, which would merge BN parameters under one name.
        for p in model.parameters():
            flat = p.reshape(-1)
            if flat.numel() > 0 and bool((flat == flat[0]).all()):
                p.add_(0.1 * torch.randn(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
    return model


def trainable_names(name, setting, model):
    prefixes = MODELS[name][1]
    return [n for n, _ in model.named_parameters() if setting == "full" or any(n.startswith(p) for p in prefixes)]


def export(name):
    import onnx  # only the export needs it

    os.makedirs(MODELS_DIR, exist_ok=True)
    model = build(name)
    path = os.path.join(MODELS_DIR, name + ".onnx")
    torch.onnx.export(
        model, torch.zeros(1, 3, SIZE, SIZE), path,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        export_params=True,
    )
    inits = {i.name for i in onnx.load(path, load_external_data=False).graph.initializer}
    missing = [n for n, _ in model.named_parameters() if n not in inits]
    if missing:
        raise SystemExit(f"{name}: parameters not exported under their torch names: {missing[:5]}")
    info = {
        "name": name,
        "image_size": SIZE,
        "classes": CLASSES,
        "last_block_prefixes": MODELS[name][1],
        "trainable": {s: trainable_names(name, s, model) for s in SETTINGS},
    }
    with open(os.path.join(MODELS_DIR, name + ".json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"exported {path} ({os.path.getsize(path) / 1e6:.1f} MB)", file=sys.stderr, flush=True)


MEMORY_FORMATS = {"channels_last": torch.channels_last, "contiguous": torch.contiguous_format}


def make_step(name, setting, batch, memory_format):
    """A closure running one training step of the case, and the trainable tensors' count and size."""
    model = build(name).to(memory_format=MEMORY_FORMATS[memory_format])
    train = set(trainable_names(name, setting, model))
    for n, p in model.named_parameters():
        p.requires_grad_(n in train)
    gen = torch.Generator().manual_seed(1234)
    x = torch.randn(batch, 3, SIZE, SIZE, generator=gen).contiguous(memory_format=MEMORY_FORMATS[memory_format])
    labels = torch.randint(0, CLASSES, (batch,), generator=gen)
    params = [p for p in model.parameters() if p.requires_grad]

    def step():
        for p in params:
            p.grad = None  # what an optimizer's zero_grad(set_to_none=True) does; no accumulation cost
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        return loss

    return step, params


def time_step(name, setting, batch, warmup, repeats, memory_format):
    step, params = make_step(name, setting, batch, memory_format)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
    return {"model": name, "setting": setting, "memory_format": memory_format, "median_ms": statistics.median(times),
            "min_ms": min(times), "times_ms": [round(t, 2) for t in times],
            "trainable_tensors": len(params), "trainable_elements": sum(p.numel() for p in params)}


def resident_bytes(key):
    """VmRSS (now) or VmHWM (peak since the process started) from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def serve(memory_format):
    baseline = resident_bytes("VmRSS")  # torch imported, no model yet
    step = None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request["op"] == "prepare":
            step = None  # free the previous case first
            step, params = make_step(request["model"], request["setting"], request["batch"], memory_format)
            for _ in range(request.get("warmup", 3)):
                step()
            reply = {"ok": True, "trainable_tensors": len(params), "torch_version": torch.__version__,
                     "threads": torch.get_num_threads(), "memory_format": memory_format}
        elif request["op"] == "step":
            start = time.perf_counter()
            step()
            reply = {"ms": (time.perf_counter() - start) * 1000.0}
        elif request["op"] == "memory":
            reply = {"baseline_rss": baseline, "peak_rss": resident_bytes("VmHWM"), "rss": resident_bytes("VmRSS")}
        else:
            reply = {"error": f"unknown op {request['op']}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["export", "time", "all", "serve"])
    ap.add_argument("--models", nargs="*", default=DEFAULT_MODELS, choices=list(MODELS))
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-format", choices=list(MEMORY_FORMATS), default="channels_last")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    if args.command == "serve":
        serve(args.memory_format)
        return 0
    if args.command in ("export", "all"):
        for name in args.models:
            export(name)
    if args.command in ("time", "all"):
        results = []
        for name in args.models:
            for setting in args.settings:
                r = time_step(name, setting, args.batch, args.warmup, args.repeats, args.memory_format)
                print(f"{name} {setting}: {r['median_ms']:.1f} ms", file=sys.stderr, flush=True)
                results.append(r)
        print(json.dumps({"torch_version": torch.__version__, "threads": torch.get_num_threads(),
                          "batch": args.batch, "warmup": args.warmup, "repeats": args.repeats, "memory_format": args.memory_format,
                          "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
