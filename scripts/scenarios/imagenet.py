#!/usr/bin/python3
"""The transfer-learning scenario table on ImageNet weights (issue 21, item 6), written to a section of docs/results.md.

  /usr/bin/python3 scripts/scenarios/imagenet.py            # full: 3 targets x 6 strategies x 3 seeds, 6 configurations each
  /usr/bin/python3 scripts/scenarios/imagenet.py --quick    # smoke slice: photos, seed 0, feature-extraction and
                                                            # fine-tune-last, 2 configurations each, with the PyTorch replay

Backbone: ML.NET's ImageNet ResNet-18 (models/imagenet/ResNet18.onnx, a CNTK export at opset 8 that reads BGR pixels
0..255; scripts/setup.sh restores it). It is a BasicBlock ResNet with [2, 2, 2, 3] blocks (a third block in the last
stage: 22 convolutions, 15.9M parameters). Every row cuts it at the last block's output (ReLU393_Output_0, 512
channels) and the head average-pools that map: at 224 px this is exactly the file's own 7x7 AveragePool, and it
also works at the smaller sizes of the Fashion-MNIST rows, where a fixed 7x7 window would not fit.

Targets:
  photos       small and similar: data/photos (scripts/setup.sh, from Tux Paint stamps: 5 classes, 126 train/ and 41
               val/ photos of animals, fruit, flowers, vegetables), at 224 px through the model's own preprocessing
               graph (models/imagenet/ResNetPreprocess.onnx: RGB -> BGR, minus a mean image), as recipes/quickstart.yaml.
  fashion-20   small and dissimilar: Fashion-MNIST target classes 5-9, 20 training images per class (seeded selection),
  fashion-500  large and dissimilar: 500 per class; both at --fashion-size px (default 64, see README.md for why),
               BGR 0..255 minus the mean image's channel means (103.06, 115.90, 123.15): the mean image is 224x224;
               the backbone file is a copy whose input is that size (the CNTK file fixes 224 x 224).
               Test images: --test-per-class of the IDX test file's images of those classes (fixed, seed-independent).

Strategies (each a shipped recipe; overrides common to all rows: data, input, seed, batch_size 32, early stopping off):
  feature-extraction   recipes/feature-extraction.yaml (frozen backbone, head [128])
  truncate             recipes/truncate.yaml cut after stage 3 (ReLU347_Output_0, 256 channels), head average-pooled
  fine-tune-last       recipes/fine-tune.yaml with fine_tune_last 3: the last stage (its 3 residual blocks) and the head
  fine-tune-all        recipes/fine-tune.yaml (every layer, backbone at 0.1x the head's rate, BatchNorm frozen)
  gradual-unfreezing   recipes/gradual-unfreezing.yaml (head, then the last 2 blocks, then all; epochs split 3:3:4)
  from-scratch         recipes/from-scratch.yaml on the backbone's architecture (ResNet, width 64, blocks [2, 2, 2, 3],
                       standard stem), fresh seeded weights; BGR 0..255 channel means on the photos too (a built
                       architecture has no preprocessing graph in front)

Search per cell (target, strategy, seed): every strategy gets the same grid, the recipe's learning rate times
{0.3, 1, 3} x two epoch counts per target (photos and fashion-20: 10, 25; fashion-500: 4, 10), 6 runs that train on
80 % of the training images (data.val_split 0.2, stratified, seeded) and are scored on the other 20 % (accuracy after
the last epoch, ties to the lower validation loss, then fewer epochs, then the lower rate). The chosen configuration
is trained again on all training images and the table reports its accuracy on the test images (photos: val/).
The PyTorch replay (torch_reference.py --torchvision: torchvision's ResNet with the ONNX weights mapped in, see
imagenet_backbone.py) repeats that final run for the feature-extraction and fine-tune rows.

Work files go to --work (default /tmp/onnx-trainer-scenarios/imagenet-{quick,full}); finished runs are reused, so an
interrupted table continues where it stopped (a run cut off in the middle starts again).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report_sections  # noqa: E402
import run as table  # noqa: E402  (the Fashion-MNIST runner: IDX files, running ours and the replay, machine, hashes)

ROOT = table.ROOT
BACKBONE = os.path.join(ROOT, "models/imagenet/ResNet18.onnx")
PREPROCESS = os.path.join(ROOT, "models/imagenet/ResNetPreprocess.onnx")
PHOTOS = os.path.join(ROOT, "data/photos")
FEATURES = "ReLU393_Output_0"
TRUNCATE_CUT = "ReLU347_Output_0"
ARCHITECTURE = "{name: resnet, width: 64, blocks: [2, 2, 2, 3]}"
CHANNEL_MEANS = "[103.06, 115.90, 123.15]"
SECTION = "imagenet-scenarios"

TARGETS = ["photos", "fashion-20", "fashion-500"]
STRATEGIES = {
    "feature-extraction": ("feature-extraction", []),
    "truncate": ("truncate", [f"backbone.cut={TRUNCATE_CUT}", "head.pooling=average"]),
    "fine-tune-last": ("fine-tune", ["fine_tune_last=3"]),
    "fine-tune-all": ("fine-tune", []),
    "gradual-unfreezing": ("gradual-unfreezing", []),
    "from-scratch": ("from-scratch", []),
}
REPLAYED = {"feature-extraction", "fine-tune-last", "fine-tune-all"}
LR_FACTORS = [0.3, 1, 3]
EPOCHS = {"photos": [10, 25], "fashion-20": [10, 25], "fashion-500": [4, 10]}
# --quick: 2 configurations per cell (the recipe's rate and 3x, 3 epochs).
QUICK_GRID = [(1, 3), (3, 3)]
RECIPE_RATES = {}  # recipe name -> learning rates (top level, or one per stage), read once


def recipe_path(strategy):
    return os.path.join(ROOT, "recipes", STRATEGIES[strategy][0] + ".yaml")


def recipe_rates(strategy):
    """The recipe's learning rates: [optimizer.learning_rate] or, for stages, each stage's (default: the optimizer's)."""
    import yaml
    name = STRATEGIES[strategy][0]
    if name not in RECIPE_RATES:
        with open(recipe_path(strategy)) as f:
            recipe = yaml.safe_load(f)
        optimizer = recipe.get("optimizer") or {}
        base = optimizer.get("learning_rate", 0.01 if optimizer.get("kind", "sgd") == "sgd" else 0.001)
        RECIPE_RATES[name] = [s.get("learning_rate", base) for s in recipe["stages"]] if recipe.get("stages") else [base]
    return RECIPE_RATES[name]


def grid(target, quick):
    return QUICK_GRID if quick else [(f, e) for e in EPOCHS[target] for f in LR_FACTORS]


def schedule_sets(strategy, factor, epochs):
    """--set lines for a configuration: the recipe's rate(s) times factor; epochs (stages split 3:3:4, each at least 1)."""
    rates = recipe_rates(strategy)
    if STRATEGIES[strategy][0] == "gradual-unfreezing":
        first = max(1, round(0.3 * epochs))
        second = max(1, round(0.3 * epochs))
        split = [first, second, max(1, epochs - first - second)]
        return [s for i, (r, e) in enumerate(zip(rates, split)) for s in (f"stages.{i}.learning_rate={r * factor:.6g}", f"stages.{i}.epochs={e}")]
    return [f"optimizer.learning_rate={rates[0] * factor:.6g}", f"epochs={epochs}"]


def fashion_files(work, size, seed, test_per_class):
    """IDX files (target classes relabelled 0-4): `size` training images per class for this seed, and the fixed test set."""
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    train_x = table.read_idx(f"{table.FMNIST}/train-images-idx3-ubyte.gz")
    train_y = table.read_idx(f"{table.FMNIST}/train-labels-idx1-ubyte.gz")
    test_x = table.read_idx(f"{table.FMNIST}/t10k-images-idx3-ubyte.gz")
    test_y = table.read_idx(f"{table.FMNIST}/t10k-labels-idx1-ubyte.gz")

    def pick(x, y, per_class, rng_key, name):
        images, labels = os.path.join(data, f"{name}-images.idx"), os.path.join(data, f"{name}-labels.idx")
        if not (os.path.exists(images) and os.path.exists(labels)):
            rng = np.random.default_rng(rng_key)
            chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in table.TARGET_CLASSES]))
            table.write_idx(images, x[chosen])
            table.write_idx(labels, y[chosen] - table.TARGET_CLASSES[0])
        return table.idx_source(images, labels)

    train = pick(train_x, train_y, size, [seed, size], f"train-{size}-seed{seed}")
    test = pick(test_x, test_y, test_per_class, [12345, test_per_class], f"test-{test_per_class}")
    return train, test


def data_sets(target, strategy, seed, final, work, args):
    """--set lines for the data and preprocessing of a run: the search (held-out 20 % of train) or the final run (test)."""
    if target == "photos":
        train = f"{{kind: image-folder, path: {PHOTOS}/train}}"
        test = f"{{kind: image-folder, path: {PHOTOS}/val}}"
        size = 224
    else:
        train, test = fashion_files(work, int(target.split("-")[1]), seed, args.test_per_class)
        size = args.fashion_size
    sets = [f"data.train={train}"]
    sets += [f"data.val={test}", "data.val_split="] if final else ["data.val=", "data.val_split=0.2"]
    sets += [f"input.size=[{size}, {size}]", f"input.resize={size}", "input.range=255", "input.std=[1, 1, 1]"]
    if target == "photos" and strategy != "from-scratch":
        sets += ["input.channels=RGB", "input.mean=[0, 0, 0]", f"backbone.preprocess={PREPROCESS}"]
    else:
        sets += ["input.channels=BGR", f"input.mean={CHANNEL_MEANS}"]
    return sets


def sized_backbone(work, size):
    """The backbone with its input at size x size: the CNTK file fixes it at [1, 3, 224, 224]; the trainer makes the
    batch symbolic but keeps 224 x 224 (ONNX Runtime refuses other sizes), and a symbolic height and width would not
    do either (the Conv gradients need static spatial sizes). Same graph and initializers; the graph's output (after
    the 7x7 AveragePool, which the cut at FEATURES leaves out) gets symbolic spatial sizes."""
    import onnx
    path = os.path.join(work, f"ResNet18-{size}px.onnx")
    if not os.path.exists(path):
        model = onnx.load(BACKBONE)
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dims[2].dim_value, dims[3].dim_value = size, size
        for output in model.graph.output:
            dims = output.type.tensor_type.shape.dim
            dims[2].dim_param, dims[3].dim_param = f"{output.name}_height", f"{output.name}_width"
        onnx.save(model, path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


def run_sets(target, strategy, seed, config, final, work, args):
    sets = data_sets(target, strategy, seed, final, work, args)
    if strategy == "from-scratch":
        sets += ["backbone.path=", f"backbone.architecture={ARCHITECTURE}"]
    else:
        backbone = BACKBONE if target == "photos" else sized_backbone(work, args.fashion_size)
        sets += [f"backbone.path={backbone}", f"backbone.cut={FEATURES}"]
    sets += STRATEGIES[strategy][1]
    sets += schedule_sets(strategy, *config)
    sets += ["batch_size=32", "early_stopping=", f"seed={seed}"]
    return sets


def config_name(config):
    return f"lr{config[0]:g}x-e{config[1]}"


def choose(search):
    """The configuration with the best held-out accuracy; ties: lower held-out loss, fewer epochs, lower rate."""
    finished = [(c, m) for c, m in search.items() if m]
    if not finished:
        return None
    return min(finished, key=lambda cm: (-cm[1][-1]["val_accuracy"], cm[1][-1]["val_loss"], cm[0][1], cm[0][0]))[0]


def run_cell(trainer, target, strategy, seed, work, args, log):
    """The search, the chosen configuration's final run and (for the replayed rows) its PyTorch replay."""
    cell = os.path.join(work, "runs", f"{target}-{strategy}-seed{seed}")
    recipe = recipe_path(strategy)
    entry = {"search": {}, "search_seconds": 0.0}
    search = {}
    for config in grid(target, args.quick):
        run_dir = os.path.join(cell, "search-" + config_name(config))
        if args.report_only:
            metrics = table.last_metrics(run_dir) if os.path.exists(os.path.join(run_dir, "done")) else None
        else:
            metrics = table.run_ours(trainer, recipe, run_sets(target, strategy, seed, config, False, work, args), run_dir, log)
        search[config] = metrics
        entry["search"][config_name(config)] = metrics[-1]["val_accuracy"] if metrics else None
        entry["search_seconds"] += table.wall_seconds(run_dir)
    chosen = choose(search)
    if chosen is None or any(m is None for m in search.values()):
        return entry
    entry["chosen"] = config_name(chosen)
    run_dir = os.path.join(cell, "final")
    sets = run_sets(target, strategy, seed, chosen, True, work, args)
    if args.report_only:
        metrics = table.last_metrics(run_dir) if os.path.exists(os.path.join(run_dir, "done")) else None
    else:
        metrics = table.run_ours(trainer, recipe, sets, run_dir, log)
    if metrics:
        entry["ours"] = metrics[-1]["val_accuracy"]
        entry["ours_seconds"] = table.wall_seconds(run_dir)
        if strategy in REPLAYED and not args.no_torch:
            started = time.time()
            reference = table.read_torch(run_dir) if args.report_only else table.run_torch(recipe, sets, run_dir, log, ["--torchvision"])
            if reference:
                entry["torch"] = reference.get("val_accuracy")
                entry["torch_seconds"] = reference.get("seconds", time.time() - started)
    return entry


def feature_check(work, log):
    """imagenet_backbone.py check on one val/ photo per class, with the first finished photos feature-extraction run."""
    result = os.path.join(work, "feature-check.txt")
    if os.path.exists(result):
        with open(result) as f:
            return f.read().strip()
    runs = sorted(d for d in os.listdir(os.path.join(work, "runs")) if d.startswith("photos-feature-extraction-seed")) \
        if os.path.isdir(os.path.join(work, "runs")) else []
    run_dir = next((os.path.join(work, "runs", d, "final") for d in runs if os.path.exists(os.path.join(work, "runs", d, "final", "done"))), None)
    if run_dir is None:
        return None
    val = os.path.join(PHOTOS, "val")
    images = [os.path.join(val, c, sorted(os.listdir(os.path.join(val, c)))[0]) for c in sorted(os.listdir(val))]
    done = subprocess.run([sys.executable, os.path.join(HERE, "imagenet_backbone.py"), "check", run_dir, *images],
                          capture_output=True, text=True, cwd=ROOT)
    line = (done.stdout.strip() or done.stderr.strip().splitlines()[-1]) + ("" if done.returncode == 0 else " **FAILED**")
    log(f"feature check: {line}")
    with open(result, "w") as f:
        f.write(line + "\n")
    return line


def write_report(path, args, results, targets, strategies, seeds, started, check):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    entries = results.values()
    ours_min = sum(e.get("search_seconds", 0) + e.get("ours_seconds", 0) for e in entries) / 60
    torch_min = sum(e.get("torch_seconds", 0) for e in entries) / 60
    lines = ["## Transfer-learning scenarios on ImageNet weights" + (": SMOKE SLICE" if args.quick else ""), ""]
    if args.quick:
        lines += ["**This is the `--quick` smoke slice** (photos only, seed 0, feature-extraction and fine-tune-last, 2 configurations",
                  "each, 3 epochs): it proves the runner, the search, the report and the PyTorch replay end to end; it is not the table.",
                  "The full table comes from `/usr/bin/python3 scripts/scenarios/imagenet.py` (see `scripts/scenarios/README.md`).", ""]
    size = args.fashion_size
    lines += [
        f"- Produced by: `/usr/bin/python3 scripts/scenarios/imagenet.py{' --quick' if args.quick else ''}` at commit `{commit}`",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; time taken: {ours_min + torch_min:.1f} min, the sum of the runs' wall times "
        f"(ours {ours_min:.1f} min, search and final runs, + PyTorch {torch_min:.1f} min, one after another)",
        f"- Machine: {table.machine()}",
        f"- Backbone: `models/imagenet/ResNet18.onnx` (sha256 {table.sha256(BACKBONE)[:16]}; ML.NET's ImageNet ResNet-18, CNTK, opset 8; "
        f"a BasicBlock ResNet with [2, 2, 2, 3] blocks), cut at `{FEATURES}` (the last block's output), average-pooled by the head",
        f"- Targets: photos = `data/photos` at 224 px through `ResNetPreprocess.onnx`, search on 80 % of train/, test = val/ (41 photos); "
        f"fashion-N = Fashion-MNIST classes 5-9, N training images per class (seeded), {size}x{size} px, BGR 0..255 minus channel means; "
        f"test = {5 * args.test_per_class} fixed test images",
        "- Search per cell: " + ("; ".join(f"{config_name(c)}" for c in QUICK_GRID) if args.quick else
                                 f"learning rate x {{{', '.join(f'{f:g}' for f in LR_FACTORS)}}} of the recipe's, epochs "
                                 + ", ".join(f"{t}: {EPOCHS[t]}" for t in targets))
        + "; trained on 80 % of the training images, chosen on the other 20 %, retrained on all of them; cells are the test accuracy "
          "of that final run (after its last epoch), mean over seeds, in %",
        f"- Seeds: {', '.join(map(str, seeds))}; batch size 32, early stopping off, everything else as in each recipe",
        "- PyTorch: `torch_reference.py --torchvision` (PyTorch " + table.torch_version() + ") replays each final run of the "
        + ", ".join(sorted(REPLAYED)) + " rows on torchvision's ResNet with the ONNX weights mapped in (same head initialization, batches, "
        "augmentation draws, optimizer and schedule)",
    ]
    if check:
        lines.append(f"- Backbone check (`imagenet_backbone.py check`, one val/ photo per class): {check}")
    lines += ["", "ours / PyTorch (difference, pp); PyTorch only for the replayed rows", ""]
    lines.append("| strategy | " + " | ".join(targets) + " |")
    lines.append("|---|" + "---|" * len(targets))
    for strategy in strategies:
        cells = []
        for target in targets:
            ours = [results.get((target, strategy, s), {}).get("ours") for s in seeds]
            theirs = [results.get((target, strategy, s), {}).get("torch") for s in seeds]
            if all(v is None for v in ours):
                cells.append("not run")
                continue
            cell = table.fmt(ours)
            if strategy in REPLAYED:
                cell += f" / {table.fmt(theirs)}"
                if all(v is not None for v in ours + theirs):
                    cell += f" ({100 * (np.mean(ours) - np.mean(theirs)):+.1f})"
            cells.append(cell)
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    lines += ["", "### Every cell", "",
              "| target | strategy | seed | held-out accuracy per configuration, % | chosen | test, ours | test, PyTorch | search, s | final, s | PyTorch, s |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for (target, strategy, seed), e in sorted(results.items(), key=lambda kv: (targets.index(kv[0][0]), strategies.index(kv[0][1]), kv[0][2])):
        search = ", ".join(f"{k} {'n/a' if v is None else f'{100 * v:.1f}'}" for k, v in e["search"].items())
        pct = lambda v: "" if v is None else f"{100 * v:.2f}"
        lines.append(f"| {target} | {strategy} | {seed} | {search} | {e.get('chosen', '')} | {pct(e.get('ours'))} | {pct(e.get('torch'))} | "
                     f"{e.get('search_seconds', 0):.0f} | {e.get('ours_seconds', 0):.0f} | {e.get('torch_seconds', 0):.0f} |")
    report_sections.write_section(path, SECTION, "\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke slice: photos, seed 0, feature-extraction and fine-tune-last, 2 configurations")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--targets", nargs="+", choices=TARGETS)
    parser.add_argument("--strategies", nargs="+", choices=list(STRATEGIES))
    parser.add_argument("--fashion-size", type=int, default=64, help="input size of the Fashion-MNIST rows (even, so the CNTK paddings match torchvision's)")
    parser.add_argument("--test-per-class", type=int, default=200, help="Fashion-MNIST test images per class")
    parser.add_argument("--work", default="/tmp/onnx-trainer-scenarios")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs/results.md"))
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch replay")
    parser.add_argument("--no-build", action="store_true", help="use the existing Release build of the trainer")
    parser.add_argument("--report-only", action="store_true", help="write the section from the runs finished so far; start none")
    args = parser.parse_args()
    if args.fashion_size % 2:
        parser.error("--fashion-size must be even")
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    targets = args.targets or (["photos"] if args.quick else TARGETS)
    strategies = args.strategies or (["feature-extraction", "fine-tune-last"] if args.quick else list(STRATEGIES))
    for needed in (BACKBONE, PREPROCESS, os.path.join(PHOTOS, "train")):
        if not os.path.exists(needed):
            raise SystemExit(f"no {os.path.relpath(needed, ROOT)}: run scripts/setup.sh")
    work = os.path.join(args.work, "imagenet-quick" if args.quick else "imagenet-full")
    started, log, trainer = table.start_work(work, build=not args.no_build and not args.report_only)
    clock = time.time()
    results = {}
    cells = [(t, s, seed) for t in targets for s in strategies for seed in seeds]
    for i, (target, strategy, seed) in enumerate(cells, 1):
        t0 = time.time()
        entry = run_cell(trainer, target, strategy, seed, work, args, log)
        results[(target, strategy, seed)] = entry
        pct = lambda v: "n/a" if v is None else f"{100 * v:.2f}"
        log(f"[{i}/{len(cells)}] {target} {strategy} seed {seed}: chose {entry.get('chosen', 'n/a')}, test ours {pct(entry.get('ours'))}"
            f"  torch {pct(entry.get('torch'))}  ({time.time() - t0:.0f} s)")
        check = feature_check(work, log) if not args.report_only or os.path.exists(os.path.join(work, "feature-check.txt")) else None
        write_report(args.out, args, results, targets, strategies, seeds, started, check)
    log(f"wrote the {SECTION} section of {args.out} in {(time.time() - clock) / 60:.1f} min")


if __name__ == "__main__":
    main()
