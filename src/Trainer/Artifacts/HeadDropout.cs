using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// The two training forms of the head's dropout. The forward classifier carries inference-mode Dropout nodes
/// (the identity, which the eval graph keeps and the exporter removes). The training artifact samples its masks
/// inside the graph (standard Dropout in training mode), so <c>training_model.onnx</c> keeps the contract's inputs.
/// The loop instead feeds each mask as an input drawn from the run's seed and position (<c>DropoutMasks</c>), so a
/// resumed run draws the same masks as the uninterrupted one, which in-graph sampling (kernel state) cannot give.
/// </summary>
public static class HeadDropout
{
    private const string MaskSuffix = ".mask";

    /// <summary>The head's dropout layers of a forward graph (named by <see cref="ClassifierHeadBuilder"/>).</summary>
    public static IReadOnlyList<Node> Nodes(Graph graph) =>
        [.. graph.Nodes.Where(n => n.OpType == "Dropout" && n.Domain.Length == 0 && n.Name.StartsWith(ClassifierHeadBuilder.Prefix + ".", StringComparison.Ordinal))];

    /// <summary>A copy in which every head Dropout runs in training mode with its own seed and mask output; the model itself when the head has none.</summary>
    public static Model Sampled(Model forward, int seed)
    {
        if (Nodes(forward.Graph).Count == 0) return forward;
        var model = forward.Clone();
        var graph = model.Graph;
        var training = graph.AddInitializer(graph.FreshName($"{ClassifierHeadBuilder.Prefix}.dropout_training"), new Tensor(DataType.Bool, [], new byte[] { 1 }));
        int index = 0;
        foreach (var node in Nodes(graph))
        {
            var (input, ratio, output) = (node.Input(0)!, node.Input(1), node.Output());
            string name = node.Name;
            graph.RemoveNode(node);
            var mask = graph.CreateValue(graph.FreshName(name + MaskSuffix), new TensorType(DataType.Bool, input.Type?.Shape));
            graph.AddNodeWithOutputs("Dropout", [input, ratio, training], [output, mask], [Attribute.Of("seed", (long)seed * 1000 + index++)], name);
        }
        graph.SortTopologically();
        return model;
    }

    /// <summary>
    /// A copy in which every head Dropout is <c>Mul(x, mask)</c> with the mask a new graph input <c>&lt;node&gt;.mask</c>
    /// ([N, width], 0 or 1/(1 - ratio)); the model itself and no masks when the head has no dropout.
    /// </summary>
    public static (Model Forward, IReadOnlyList<DropoutMask> Masks) Masked(Model forward)
    {
        if (Nodes(forward.Graph).Count == 0) return (forward, []);
        var model = forward.Clone();
        var graph = model.Graph;
        var masks = new List<DropoutMask>();
        foreach (var node in Nodes(graph))
        {
            var (input, output) = (node.Input(0)!, node.Output());
            if (input.Type?.Shape is not { Count: 2 } shape || shape[1].Value is not long width)
                throw new GraphException($"{node}: head dropout needs features of shape [N, width] with a known width (got {input.Type})");
            float ratio = node.Input(1)?.Initializer?.ToFloats()[0] ?? 0.5f;
            string name = node.Name;
            graph.RemoveNode(node);
            var mask = graph.AddInput(name + MaskSuffix, new TensorType(DataType.Float, shape));
            graph.AddNodeWithOutputs("Mul", [input, mask], [output], name: name);
            masks.Add(new DropoutMask(mask.Name, width, ratio));
        }
        graph.RemoveDeadNodes();
        graph.SortTopologically();
        return (model, masks);
    }
}
