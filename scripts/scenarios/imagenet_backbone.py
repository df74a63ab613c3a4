#!/usr/bin/python3
"""ML.NET's ImageNet ResNet-18 (a CNTK export) as a torchvision ResNet, built from the ONNX file's initializers.

  /usr/bin/python3 scripts/scenarios/imagenet_backbone.py check RUN_DIR IMAGE... [--tolerance 1e-4]

The torch model is torchvision's own ResNet(BasicBlock, blocks) (not an interpreter of our graph), so it checks
independently that the weights mean what we think they mean. The blocks per stage are read from the graph: ML.NET's
"ResNet18" has [2, 2, 2, 3] (22 convolutions, 15.9M parameters), not torchvision resnet18's [2, 2, 2, 2].
The ONNX graph (any opset: the CNTK original or the upgraded graph in a run's model.onnx) is walked node by node
with python3-onnx: its 7x7 and 3x3 convolutions map in order
onto torchvision's conv1 / layerN.M.conv1 / conv2, its 1x1 convolutions onto the downsample convolutions, the
BatchNormalization reading each convolution's output onto the BatchNorm after it, and a Gemm (a torchvision
export's classifier) onto fc. Every shape, stride and padding is checked on the way. CNTK pads the stem
convolution [3, 3, 2, 2] and the stem max pool [1, 1, 0, 0] (begin, begin, end, end) where torchvision pads
3 and 1 on both sides: for even input sizes (224, 96, 64) the last window never reaches the extra padding row,
so both give the same numbers (the same holds for any stride-2 layer padded one less at the end).

A preprocessing graph (ML.NET's ResNetPreprocess.onnx: Split RGB, Concat as BGR, Sub a mean image) is run as a
small torch module over its initializers (Split, Concat, Sub, Add, Mul, Div, Identity).

`check` compares our features with torch's on a few images: RUN_DIR is a finished onnx-trainer run whose backbone
was cut at the last block's output (`backbone.cut: ReLU393_Output_0`) and frozen; ours are the probabilities
`onnx-trainer predict RUN_DIR/model.onnx` prints (the Inference library's preprocessing, then ONNX Runtime on the
upgraded, merged graph), torch's are softmax(head(avgpool(resnet18(preprocess(x))))) with the head's weights read
from that model.onnx. It prints the largest differences of the log-probabilities and exits 1 above the tolerance.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import torch_reference  # noqa: E402  (recipe loading and image preprocessing, as the replay does them)


def _attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads_match(onnx_pads, torch_padding, stride):
    """ONNX pads [top, left, bottom, right] against torchvision's symmetric padding: equal, or (stride 2) one less at the end."""
    begin, end = onnx_pads[:2], onnx_pads[2:]
    return all(b == torch_padding for b in begin) and all(e == torch_padding or (stride == 2 and e == torch_padding - 1) for e in end)


def blocks_per_stage(graph, weights):
    """BasicBlocks per stage: two 3x3 convolutions per block, stages told apart by their widths (64, 128, 256, 512)."""
    widths = [weights[n.input[1]].shape[0] for n in graph.node if n.op_type == "Conv" and weights[n.input[1]].shape[2:] == (3, 3)]
    blocks = [widths.count(w) // 2 for w in (64, 128, 256, 512)]
    if 2 * sum(blocks) != len(widths) or 0 in blocks:
        raise SystemExit(f"the graph's 3x3 convolutions ({len(widths)}) do not make the stages of a BasicBlock ResNet")
    return blocks


class MappedResNet18:
    """torchvision.models.resnet18 with the ONNX graph's weights, and which torch module each ONNX initializer went to.

    convs: ONNX conv weight name -> nn.Conv2d; batch_norms: ONNX BN scale name -> (nn.BatchNorm2d, [scale, bias, mean, var]);
    features: the ONNX tensor that layer4's output is (the last Relu before the pooling)."""

    def __init__(self, path):
        model = onnx.load(path)
        graph = model.graph
        weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.blocks = blocks_per_stage(graph, weights)
        net = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, self.blocks)
        net.eval()
        wide = [m for name, m in net.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name]
        shortcut = [m for name, m in net.named_modules() if isinstance(m, nn.Conv2d) and "downsample" in name]
        bn_after = {}
        for name, m in net.named_modules():
            if isinstance(m, nn.Conv2d):
                bn_name = name[:-1] + "1" if name.endswith("downsample.0") else name.replace("conv", "bn")
                bn_after[m] = net.get_submodule(bn_name)
        producers = {}
        for node in graph.node:
            for out in node.output:
                producers[out] = node
        self.convs, self.batch_norms = {}, {}
        conv_output_bn = {}
        for node in graph.node:
            if node.op_type == "BatchNormalization":
                conv_output_bn[node.input[0]] = node
        relus = []
        for node in graph.node:
            a = _attributes(node)
            if node.op_type == "Conv":
                kernel = weights[node.input[1]].shape
                queue = shortcut if kernel[2:] == (1, 1) else wide
                if not queue:
                    raise SystemExit(f"{path}: more convolutions than resnet18 has (node {node.name})")
                conv = queue.pop(0)
                stride = a.get("strides", [1, 1])
                if tuple(kernel) != tuple(conv.weight.shape) or tuple(stride) != tuple(conv.stride) \
                        or not _pads_match(a.get("pads", [0, 0, 0, 0]), conv.padding[0], conv.stride[0]) or a.get("group", 1) != 1 \
                        or len(node.input) > 2 and node.input[2]:
                    raise SystemExit(f"{path}: node {node.name} ({list(kernel)}, strides {stride}, pads {a.get('pads')}) does not fit "
                                     f"resnet18's {list(conv.weight.shape)}, stride {conv.stride}, padding {conv.padding}")
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(weights[node.input[1]].copy()))
                self.convs[node.input[1]] = conv
                bn_node = conv_output_bn.get(node.output[0])
                if bn_node is None:
                    raise SystemExit(f"{path}: convolution {node.name} is not followed by a BatchNormalization (BN folded: not a resnet18 of this form)")
                bn = bn_after[conv]
                scale, bias, mean, var = bn_node.input[1:5]
                with torch.no_grad():
                    for target, name in ((bn.weight, scale), (bn.bias, bias), (bn.running_mean, mean), (bn.running_var, var)):
                        if tuple(weights[name].shape) != tuple(target.shape):
                            raise SystemExit(f"{path}: {bn_node.name} input {name} {list(weights[name].shape)} does not fit {list(target.shape)}")
                        target.copy_(torch.from_numpy(weights[name].copy()))
                b = _attributes(bn_node)
                bn.eps = float(b.get("epsilon", 1e-5))
                bn.momentum = 1 - float(b.get("momentum", 0.9))
                self.batch_norms[scale] = (bn, [scale, bias, mean, var])
            elif node.op_type == "MaxPool":
                if a["kernel_shape"] != [3, 3] or a.get("strides") != [2, 2] or not _pads_match(a.get("pads", [0, 0, 0, 0]), 1, 2):
                    raise SystemExit(f"{path}: max pool {node.name} does not fit resnet18's (3x3, stride 2, padding 1)")
            elif node.op_type == "Gemm":
                w = weights[node.input[1]]
                w = w if a.get("transB", 0) else w.T
                net.fc = nn.Linear(w.shape[1], w.shape[0])
                with torch.no_grad():
                    net.fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
                    net.fc.bias.copy_(torch.from_numpy(weights[node.input[2]].copy()))
            elif node.op_type == "Relu":
                relus.append(node.output[0])
        if wide or shortcut:
            raise SystemExit(f"{path}: fewer convolutions than resnet18 has ({len(wide)} + {len(shortcut)} left)")
        self.net = net
        self.features = relus[-1]
        self.input_name = next(i.name for i in graph.input if i.name not in weights)

    def layer4(self, x):
        """resnet18 up to layer4's output (the tensor self.features names), before the average pool."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))


def run_as_torchvision(net, mapped):
    """Makes torch_reference's Net run its backbone as the mapped torchvision model: the parameters it trains, the
    BatchNorms whose mode it sets and the forward pass all become the torchvision model's, under the ONNX names."""
    if net.features != mapped.features:
        raise SystemExit(f"--torchvision needs backbone.cut {mapped.features} (the last block's output), not {net.features}")
    names = set(mapped.convs) | {n for _, (_, stats) in mapped.batch_norms.items() for n in stats[:2]}
    backbone = {n for n in net.params if not n.startswith("head.")}
    if names != backbone:
        raise SystemExit(f"--torchvision: the mapped parameters differ from the graph's ({sorted(names ^ backbone)[:4]} ...)")
    for name, conv in mapped.convs.items():
        net.params[name] = conv.weight
    for scale, (bn, (_, bias, _, _)) in mapped.batch_norms.items():
        net.bns[net.key(scale)] = bn
        net.params[scale], net.params[bias] = bn.weight, bn.bias
    net.backbone = lambda x, input_name: mapped.layer4(net.preprocess(x))


class GraphPreprocessing(nn.Module):
    """A preprocessing graph of elementwise and channel operators, run over its initializers."""
    OPERATORS = {"Split", "Concat", "Sub", "Add", "Mul", "Div", "Identity"}

    def __init__(self, path):
        super().__init__()
        graph = onnx.load(path).graph
        self.constants = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
        self.nodes = [(n.op_type, list(n.input), list(n.output), _attributes(n), n.name) for n in graph.node]
        for op, _, _, _, name in self.nodes:
            if op not in self.OPERATORS:
                raise SystemExit(f"{path}: node {name}: operator {op} is not supported by the reference's preprocessing")
        self.input = next(i.name for i in graph.input if i.name not in self.constants)
        self.output = graph.output[0].name

    def forward(self, x):
        values = dict(self.constants)
        values[self.input] = x
        for op, inputs, outputs, a, _ in self.nodes:
            args = [values[v] for v in inputs if v]
            if op == "Split":
                sizes = a.get("split") or ([int(values[inputs[1]][i]) for i in range(len(values[inputs[1]]))] if len(inputs) > 1 and inputs[1]
                                           else [args[0].shape[a.get("axis", 0)] // len(outputs)] * len(outputs))
                results = torch.split(args[0], sizes, dim=a.get("axis", 0))
            elif op == "Concat":
                results = [torch.cat(args, dim=a["axis"])]
            elif op == "Identity":
                results = [args[0]]
            else:
                results = [{"Sub": torch.sub, "Add": torch.add, "Mul": torch.mul, "Div": torch.div}[op](args[0], args[1])]
            values.update(zip(outputs, results))
        return values[self.output]


def run_recipe(run_dir):
    """The recipe and --set overrides of a run made by the scenario runner (its command.json)."""
    with open(os.path.join(run_dir, "command.json")) as f:
        command = json.load(f)
    recipe = command[command.index("train") + 1]
    sets = [command[i + 1] for i, a in enumerate(command) if a == "--set"]
    return recipe, sets


def head_layers(model_path):
    """The new head's (weight, bias) pairs from an exported model.onnx, in order (head.0, head.1, ..., head.out)."""
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(model_path).graph.initializer}
    names = sorted((n[:-len(".weight")] for n in weights if n.startswith("head.") and n.endswith(".weight")),
                   key=lambda n: (n == "head.out", n))
    return [(torch.from_numpy(weights[n + ".weight"].copy()), torch.from_numpy(weights[n + ".bias"].copy())) for n in names]


def check(args):
    recipe_path, sets = run_recipe(args.run)
    recipe = torch_reference.load_recipe(recipe_path, sets)
    backbone = MappedResNet18(recipe["backbone"]["path"])
    if recipe["backbone"].get("cut") != backbone.features:
        raise SystemExit(f"{args.run}: the check needs backbone.cut {backbone.features} (got {recipe['backbone'].get('cut')})")
    preprocess = GraphPreprocessing(recipe["backbone"]["preprocess"]) if recipe["backbone"].get("preprocess") else nn.Identity()
    pre = torch_reference.Preprocessing(recipe, [1, 3, 224, 224])
    x = torch.from_numpy(np.stack([pre.normalize(pre.resize_center_crop(pre.pil(np.asarray(torch_reference.Image.open(p).convert("RGB")))))
                                   for p in args.images]))
    with torch.no_grad():
        h = backbone.layer4(preprocess(x)).mean(dim=(2, 3))
        layers = head_layers(os.path.join(args.run, "model.onnx"))
        for i, (w, b) in enumerate(layers):
            h = F.linear(h, w, b)
            if i < len(layers) - 1:
                h = F.relu(h)
        theirs = F.log_softmax(h.double(), dim=1).numpy()
    trainer = os.path.join(ROOT, "src/Trainer/bin/Release/net10.0/onnx-trainer.dll")
    output = subprocess.run(["dotnet", trainer, "predict", os.path.join(args.run, "model.onnx"), *args.images, "--top", str(theirs.shape[1]), "--json"],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout
    ours = np.zeros_like(theirs)
    for row, result in enumerate(json.loads(output)):
        for p in result["predictions"]:
            ours[row, p["index"]] = np.log(p["probability"])
    difference = np.abs(ours - theirs)
    print(f"{len(args.images)} images, {theirs.shape[1]} classes: largest |log p ours - log p torch| {difference.max():.2e} "
          f"(mean {difference.mean():.2e}); same top-1 for {int((ours.argmax(1) == theirs.argmax(1)).sum())}/{len(args.images)}; "
          f"tolerance {args.tolerance:g}")
    if difference.max() > args.tolerance:
        raise SystemExit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("check", help="compare our features with the torchvision model's on a few images")
    c.add_argument("run", help="a finished run folder of the scenario runner (frozen backbone cut at the last block)")
    c.add_argument("images", nargs="+")
    c.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed |log-probability difference|")
    args = parser.parse_args()
    torch.set_num_threads(2)
    check(args)


if __name__ == "__main__":
    main()
