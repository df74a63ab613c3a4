using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;

namespace OnnxTrainer.Onnx;

/// <summary>
/// What <see cref="ModelReader"/> checks beyond the file format, so that a model ONNX Runtime would reject later (with an
/// exception of its own, or a wrong shape shown by <c>inspect</c>) is refused at load with the file and the node named:
/// the graph's outputs, the opset, and the Conv attributes that can be checked against the weight without shapes.
/// </summary>
internal static class ModelChecks
{
    public static void Run(Model model, string label)
    {
        if (model.OpsetVersion > OpsetUpgrade.NewestOpset)
            throw new ModelFormatException($"{label}: the model uses opset {model.OpsetVersion}, newer than the {OpsetUpgrade.NewestOpset} that ONNX Runtime here runs");
        if (model.Graph.Outputs.Count == 0) throw new ModelFormatException($"{label}: the graph has no outputs");
        foreach (var node in model.Graph.Nodes)
            if (node.OpType == "Conv" && node.Domain is "" or "ai.onnx")
                CheckConv(node, label);
    }

    /// <summary>A model that reads one image: one graph input, at least one node (a backbone, a preprocessing graph, an exported classifier).</summary>
    public static void RunForImageModel(Model model, string label)
    {
        var inputs = model.Graph.Inputs;
        if (inputs.Count != 1)
            throw new ModelFormatException($"{label}: the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); an image model has exactly one");
        if (model.Graph.Nodes.Count == 0) throw new ModelFormatException($"{label}: the graph is empty (no nodes)");
    }

    private static void CheckConv(Node node, string label)
    {
        string where = $"{label}: node '{node.Name}' (Conv)";
        long group = node.Int("group", 1);
        if (group < 1) throw new ModelFormatException($"{where}: group is {group}; it must be at least 1");
        foreach (var name in new[] { "kernel_shape", "strides", "dilations" })
            if (node.Ints(name) is { } values && values.Any(v => v < 1 || v > ModelReader.MaxDimension))
                throw new ModelFormatException($"{where}: {name} [{string.Join(", ", values)}] must be 1 to {ModelReader.MaxDimension:N0}");
        if (node.Ints("pads") is { } pads && pads.Any(p => p < 0 || p > ModelReader.MaxDimension))
            throw new ModelFormatException($"{where}: pads [{string.Join(", ", pads)}] must be 0 to {ModelReader.MaxDimension:N0}");

        if (node.Input(1)?.Initializer is not { } weight) return;
        var dims = weight.Dims;
        if (dims.Length < 3) throw new ModelFormatException($"{where}: weight '{node.Input(1)!.Name}' is {weight}; a Conv weight is [M, C/group, k...]");
        if (dims[0] % group != 0)
            throw new ModelFormatException($"{where}: weight '{node.Input(1)!.Name}' has {dims[0]} output channels, not a multiple of group {group}");
        if (node.Ints("kernel_shape") is { } kernel && !kernel.SequenceEqual(dims[2..]))
            throw new ModelFormatException($"{where}: kernel_shape [{string.Join(", ", kernel)}] contradicts the weight '{node.Input(1)!.Name}' {weight}");
    }
}
