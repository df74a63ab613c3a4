#!/usr/bin/python3
"""The four-scenario transfer-learning table (issue 7), with PyTorch parity, written to docs/results.md.

  /usr/bin/python3 scripts/scenarios/run.py            # full: sizes 20, 100, all; 3 seeds; both targets (hours)
  /usr/bin/python3 scripts/scenarios/run.py --quick    # smoke test: sizes 20, 100; 1 seed; fewer epochs

Task split (Fashion-MNIST, Debian's dataset-fashion-mnist): the backbone (models/onnx/resnet-fmnist-source.onnx,
recipes/from-scratch.yaml) is pretrained on classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat); the target
task is classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot). Training images come from the IDX training file
(small sizes: N images per class drawn with a seed-based selection, different for each seed; large: all 30,000),
validation images are all 5,000 images of the target classes in the IDX test file.

Targets:
  similar     the target classes as they are: same kind of images as the source task.
  dissimilar  the same images inverted (255 - x): dark garments on a white background. Edge and blob detectors
              of the first layers still respond (with flipped sign), but the later layers, and every frozen
              BatchNorm's statistics, were fitted to bright-on-black inputs, so the deeper the frozen features,
              the worse they fit: truncating the backbone early should beat using it whole.

Strategies: each row is a shipped recipe with only the data, the preprocessing of the backbone (32x32, resize 32,
RGB, mean 0.286, std 0.353, as it was pretrained) and the seed overridden (`--set`), early stopping off so every
run trains its full epochs, and the reported number is the validation accuracy after the last epoch:
  feature-extraction  recipes/feature-extraction.yaml (frozen backbone, head [128])
  truncate            recipes/truncate.yaml with backbone.cut=6 (after stage 2 of 4: layer2.0's output)
  fine-tune           recipes/fine-tune.yaml (all layers, backbone at 0.1x, BatchNorm frozen)
  gradual-unfreezing  recipes/gradual-unfreezing.yaml (head, then the last 2 blocks, then all)
  from-scratch        recipes/from-scratch.yaml (the backbone's architecture, fresh seeded weights)
Every run is repeated in PyTorch by torch_reference.py with the same recipe and overrides.

Work files (subset IDX files, inverted IDX files, run folders with metrics.jsonl, torch results) go to --work
(default /tmp/onnx-trainer-scenarios); finished runs are reused, so an interrupted run continues where it stopped.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

import report_sections

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
FMNIST = "/usr/share/datasets/fashion-mnist"
TARGET_CLASSES = [5, 6, 7, 8, 9]
CLASS_NAMES = ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
STRATEGIES = ["feature-extraction", "truncate", "fine-tune", "gradual-unfreezing", "from-scratch"]
TRUNCATE_CUT = 6

# Epoch overrides for --quick (the full run uses the recipes' own epochs).
QUICK_EPOCHS = {
    "feature-extraction": ["epochs=5"],
    "truncate": ["epochs=5"],
    "fine-tune": ["epochs=3"],
    "gradual-unfreezing": ["stages.0.epochs=1", "stages.1.epochs=1", "stages.2.epochs=1"],
    "from-scratch": ["epochs=3"],
}


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + array.tobytes())
    os.replace(tmp, path)


def prepare_data(work, sizes, seeds):
    """IDX files for every (target, size, seed): the target classes only, relabelled 0-4 (the trainer refuses an IDX
    file in which some label value below the largest has no image, even with a `classes` subset), in the target's view."""
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    train_x = read_idx(f"{FMNIST}/train-images-idx3-ubyte.gz")
    train_y = read_idx(f"{FMNIST}/train-labels-idx1-ubyte.gz")
    test_x = read_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz")
    test_y = read_idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz")
    test_kept = np.flatnonzero(np.isin(test_y, TARGET_CLASSES))
    files = {}
    views = {"similar": lambda x: x, "dissimilar": lambda x: 255 - x}

    def write_pair(name, target, view, x, y, indices):
        images = os.path.join(data, f"{target}-{name}-images.idx")
        labels = os.path.join(data, f"{name}-labels.idx")
        if not os.path.exists(images):
            write_idx(images, view(x[indices]))
        if not os.path.exists(labels):
            write_idx(labels, y[indices] - TARGET_CLASSES[0])
        return images, labels

    for target, view in views.items():
        test = write_pair("test", target, view, test_x, test_y, test_kept)
        for size in sizes:
            for seed in seeds:
                if size == "all":
                    train = write_pair("train-all", target, view, train_x, train_y, np.flatnonzero(np.isin(train_y, TARGET_CLASSES)))
                else:
                    # Seed-based selection, the same images for both views: `size` per target class, kept in file order.
                    rng = np.random.default_rng([seed, int(size)])
                    chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(train_y == c), int(size), replace=False) for c in TARGET_CLASSES]))
                    train = write_pair(f"train-{size}-seed{seed}", target, view, train_x, train_y, chosen)
                files[(target, size, seed)] = (*train, *test)
    return files


def idx_source(images, labels):
    names = ", ".join(f'"{n}"' for n in CLASS_NAMES)
    return f'{{kind: idx, images: "{images}", labels: "{labels}", classes: [0, 1, 2, 3, 4], class_names: [{names}]}}'


def overrides(strategy, files, seed, backbone, quick, cut=TRUNCATE_CUT):
    images, labels, test, test_labels = files
    sets = [
        f"data.train={idx_source(images, labels)}",
        f"data.val={idx_source(test, test_labels)}",
        "data.val_split=",
        "input.size=[32, 32]",
        "input.resize=32",
        "input.channels=RGB",
        "input.mean=[0.286, 0.286, 0.286]",
        "input.std=[0.353, 0.353, 0.353]",
        "early_stopping=",
        f"seed={seed}",
    ]
    if strategy != "from-scratch":
        sets.append(f"backbone.path={backbone}")
    if strategy == "truncate":
        sets.append(f"backbone.cut={cut}")
    if quick:
        sets += QUICK_EPOCHS[strategy]
    return sets


def last_metrics(run_dir):
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines


def run_ours(trainer, recipe, sets, run_dir, log):
    if os.path.exists(os.path.join(run_dir, "model.onnx")) and os.path.exists(os.path.join(run_dir, "done")):
        return last_metrics(run_dir)
    if os.path.exists(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir)
    started = time.time()
    command = ["dotnet", trainer, "train", recipe] + [a for s in sets for a in ("--set", s)] + ["--out", run_dir]
    with open(os.path.join(run_dir, "command.json"), "w") as f:
        json.dump(command, f, indent=1)
    with open(os.path.join(run_dir, "stdout.log"), "w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if code != 0:
        log(f"  our trainer failed (exit {code}); see {run_dir}/stdout.log")
        return None
    with open(os.path.join(run_dir, "done"), "w") as f:
        f.write(f"{time.time() - started:.1f}\n")
    return last_metrics(run_dir)


def wall_seconds(run_dir):
    """Wall time of our run (process start to exit, including graph building and validation)."""
    try:
        with open(os.path.join(run_dir, "done")) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0


def read_torch(run_dir):
    """The PyTorch replay's result for a run folder, or None when it has not been made."""
    result = os.path.join(run_dir, "torch.json")
    if not os.path.exists(result):
        return None
    with open(result) as f:
        return json.load(f)


def run_torch(recipe, sets, run_dir, log, options=()):
    """The PyTorch replay of one of our runs (torch_reference.py with the same recipe and overrides, plus `options`)."""
    result = os.path.join(run_dir, "torch.json")
    if os.path.exists(result):
        return read_torch(run_dir)
    command = [sys.executable, os.path.join(HERE, "torch_reference.py"), recipe] + [a for s in sets for a in ("--set", s)] \
        + ["--run", run_dir, "--json", result + ".tmp", *options]
    with open(os.path.join(run_dir, "torch.log"), "w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if code != 0:
        log(f"  torch reference failed (exit {code}); see {run_dir}/torch.log")
        return None
    os.replace(result + ".tmp", result)
    with open(result) as f:
        return json.load(f)


def fmt(values):
    values = [v for v in values if v is not None]
    return f"{100 * np.mean(values):.1f}" if values else "n/a"


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores visible{memory}, {platform.system()} {platform.release()}; load average at the end {load:.1f}"


def write_report(path, args, results, sizes, seeds, targets, strategies, elapsed, started):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    size_name = lambda s: "all (~30k)" if s == "all" else f"{s}/class"
    lines = []
    if args.quick:
        lines += ["# Transfer-learning scenarios: QUICK SMOKE RUN", "",
                  "**This is the `--quick` smoke run** (1 seed, reduced epochs, small sizes only): it proves the scripts",
                  "work end to end; its numbers are not the results table. The full table comes from",
                  "`/usr/bin/python3 scripts/scenarios/run.py` (3 seeds, the recipes' epochs, sizes 20, 100 and all).",
                  "With 3-5 epochs of a few steps each, accuracies are far below what the recipes reach, and the ranking of",
                  "the strategies cannot be read from it; what it does show is parity with PyTorch, row by row.", ""]
    else:
        lines += ["# Transfer-learning scenarios", ""]
    lines += [
        f"- Produced by: `/usr/bin/python3 scripts/scenarios/run.py{' --quick' if args.quick else ''}` at commit `{commit}`",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; time taken: "
        f"{(sum(r.get('ours_seconds', 0) + r.get('torch_seconds', 0) for r in results.values())) / 60:.1f} min, the sum of the runs' wall times "
        f"(ours {sum(r.get('ours_seconds', 0) for r in results.values()) / 60:.1f} min + PyTorch {sum(r.get('torch_seconds', 0) for r in results.values()) / 60:.1f} min, "
        f"one after another; runs finished by an earlier invocation are reused and counted; this invocation: {elapsed / 60:.1f} min)",
        f"- Machine: {machine()}",
        f"- Backbone: `{os.path.relpath(args.backbone, ROOT) if args.backbone.startswith(ROOT) else args.backbone}` (sha256 {sha256(args.backbone)[:16]})",
        f"- Seeds: {', '.join(map(str, seeds))} (cells are the mean over seeds); epochs: "
        + ("reduced (--quick): " + "; ".join(f"{k} {', '.join(v)}" for k, v in QUICK_EPOCHS.items()) if args.quick else "as in each recipe"),
        "- Task: Fashion-MNIST; backbone pretrained on classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat); target classes 5-9 "
        "(Sandal, Shirt, Sneaker, Bag, Ankle boot). Train: N images per class from the IDX training file (seed-based selection) or all 30,000; "
        "validation: all 5,000 target-class images of the IDX test file. Accuracy after the last epoch, in %.",
        "- Dissimilar target: the same images inverted (255 - x). Low-level edge/blob detectors still respond (with flipped sign), but deep "
        "features and the frozen BatchNorm statistics were fitted to bright-on-black images, so early truncation is expected to transfer best "
        "(it does once the truncate head flattens the cut tensor instead of pooling it; see the notes below).",
        f"- Strategies are the shipped recipes (`recipes/<strategy>.yaml`; truncate with `backbone.cut={args.truncate_cut}`"
        + (", after layer2.0" if args.truncate_cut == 6 else "") + ") with only data, "
        "preprocessing (32x32, resize 32, RGB, mean 0.286, std 0.353, as the backbone was pretrained), seed and (quick) epochs overridden, and "
        "early stopping off.",
        "- Parity: each run is repeated by `scripts/scenarios/torch_reference.py` (PyTorch "
        f"{torch_version()}) with the same recipe and overrides: same backbone weights, head initialization (ported .NET stream), data, "
        "shuffling, augmentation and dropout draws (ported), optimizer, schedule, epochs, batch size, label smoothing. Target: |ours - torch| <= 0.5 pp per row.",
        "",
    ]
    for target in targets:
        lines += [f"## {target} target", "", "ours / PyTorch (difference, pp)", ""]
        lines.append("| strategy | " + " | ".join(size_name(s) for s in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for strategy in strategies:
            cells = []
            for size in sizes:
                ours = [results.get((target, size, strategy, s), {}).get("ours") for s in seeds]
                torch_ = [results.get((target, size, strategy, s), {}).get("torch") for s in seeds]
                if all(v is None for v in ours):
                    cells.append("not run")
                    continue
                diff = ""
                if all(v is not None for v in ours + torch_):
                    d = 100 * (np.mean(ours) - np.mean(torch_))
                    flag = "" if abs(d) <= 0.5 else " **!**"
                    diff = f" ({d:+.1f}{flag})"
                cells.append(f"{fmt(ours)} / {fmt(torch_)}{diff}")
            lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Every run", "", "| target | size | strategy | seed | ours | PyTorch | diff (pp) | ours, s (wall) | PyTorch, s |", "|---|---|---|---|---|---|---|---|---|"]
    for (target, size, strategy, seed), r in sorted(results.items(), key=lambda kv: (targets.index(kv[0][0]), sizes.index(kv[0][1]), strategies.index(kv[0][2]), kv[0][3])):
        o, t = r.get("ours"), r.get("torch")
        d = f"{100 * (o - t):+.2f}" if o is not None and t is not None else ""
        lines.append(f"| {target} | {size_name(size)} | {strategy} | {seed} | {'' if o is None else f'{100 * o:.2f}'} | "
                     f"{'' if t is None else f'{100 * t:.2f}'} | {d} | {r.get('ours_seconds', 0):.0f} | {r.get('torch_seconds', 0):.0f} |")
    lines.append("")
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            lines += [f.read().rstrip(), ""]
    report_sections.write_unmarked(path, "\n".join(lines))


def sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def torch_version():
    try:
        import torch
        return torch.__version__
    except ImportError:
        return "?"


def start_work(work, build):
    """Opens a work folder: (the date of its first invocation, which later ones keep since they reuse its finished runs;
    a log function that prints and appends to run.log; the trainer's dll, built in Release first when `build`)."""
    os.makedirs(work, exist_ok=True)
    stamp = os.path.join(work, "started")
    if not os.path.exists(stamp):
        with open(stamp, "w") as f:
            f.write(datetime.datetime.now(datetime.timezone.utc).isoformat())
    with open(stamp) as f:
        started = datetime.datetime.fromisoformat(f.read().strip())
    log_file = open(os.path.join(work, "run.log"), "a")

    def log(message):
        print(message, flush=True)
        log_file.write(message + "\n")
        log_file.flush()

    if build:
        subprocess.check_call(["dotnet", "build", "src/Trainer", "-c", "Release", "--nologo", "-v", "q"], cwd=ROOT, stdout=subprocess.DEVNULL)
    return started, log, os.path.join(ROOT, "src/Trainer/bin/Release/net10.0/onnx-trainer.dll")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 seed, fewer epochs, sizes 20 and 100 only")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--sizes", nargs="+", help="images per class (20, 100) and/or 'all'")
    parser.add_argument("--targets", nargs="+", default=["similar", "dissimilar"], choices=["similar", "dissimilar"])
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES, choices=STRATEGIES)
    parser.add_argument("--backbone", default=os.path.join(ROOT, "models/onnx/resnet-fmnist-source.onnx"))
    parser.add_argument("--work", default="/tmp/onnx-trainer-scenarios")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs/results.md"))
    parser.add_argument("--notes", default=os.path.join(HERE, "notes.md"), help="markdown appended to the report (explanations of rows)")
    parser.add_argument("--truncate-cut", type=int, default=TRUNCATE_CUT, help="cut point (onnx-trainer inspect) of the truncate rows")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    parser.add_argument("--no-build", action="store_true", help="use the existing Release build of the trainer")
    parser.add_argument("--report-only", action="store_true", help="write the report from the runs finished so far; start none")
    args = parser.parse_args()
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    sizes = args.sizes or (["20", "100"] if args.quick else ["20", "100", "all"])
    args.backbone = os.path.abspath(args.backbone)
    if not os.path.exists(args.backbone):
        raise SystemExit(f"no backbone at {args.backbone}: train it with recipes/from-scratch.yaml or pass --backbone")
    work = os.path.join(args.work, "quick" if args.quick else "full")
    started, log, trainer = start_work(work, build=not args.no_build and not args.report_only)
    clock = time.time()
    files = prepare_data(work, sizes, seeds)
    results = {}
    total = len(args.targets) * len(sizes) * len(args.strategies) * len(seeds)
    done = 0
    for target in args.targets:
        for size in sizes:
            for strategy in args.strategies:
                for seed in seeds:
                    done += 1
                    recipe = os.path.join(ROOT, "recipes", f"{strategy}.yaml")
                    sets = overrides(strategy, files[(target, size, seed)], seed, args.backbone, args.quick, args.truncate_cut)
                    run_dir = os.path.join(work, "runs", f"{target}-{size}-{strategy}-seed{seed}")
                    t0 = time.time()
                    finished = os.path.exists(os.path.join(run_dir, "done"))
                    metrics = (last_metrics(run_dir) if finished else None) if args.report_only else run_ours(trainer, recipe, sets, run_dir, log)
                    entry = {"ours": metrics[-1]["val_accuracy"] if metrics else None,
                             "ours_seconds": wall_seconds(run_dir)}
                    if metrics and not args.no_torch:
                        t1 = time.time()
                        reference = read_torch(run_dir) if args.report_only else run_torch(recipe, sets, run_dir, log)
                        if reference:
                            entry["torch"] = reference.get("val_accuracy")
                            entry["torch_seconds"] = reference.get("seconds", time.time() - t1)
                    results[(target, size, strategy, seed)] = entry
                    o, t = entry.get("ours"), entry.get("torch")
                    log(f"[{done}/{total}] {target} {size} {strategy} seed {seed}: ours {'n/a' if o is None else f'{100 * o:.2f}'}"
                        f"  torch {'n/a' if t is None else f'{100 * t:.2f}'}  ({time.time() - t0:.0f} s)")
                    write_report(args.out, args, results, sizes, seeds, args.targets, args.strategies, time.time() - clock, started)
    log(f"wrote {args.out} in {(time.time() - clock) / 60:.1f} min")


if __name__ == "__main__":
    main()
