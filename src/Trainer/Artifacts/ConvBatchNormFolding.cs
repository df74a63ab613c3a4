using OnnxTrainer.Autodiff.Rules;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Folds each inference-mode BatchNormalization that directly follows a Conv with a trainable weight into that Conv,
/// inside the graph: <c>Conv(x, W * s, (b - mean) * s + B)</c> with <c>s = scale / sqrt(var + eps)</c> per output
/// channel. The same function to rounding, and the gradient builder differentiates it as it stands: the gradients of
/// W, scale and B then come through weight-sized Mul/Sub nodes, so the step loses the BatchNormalization pass of the
/// forward and the per-element passes of its backward over the activations (dX = dY * s, dscale = sum dY * xhat).
/// ONNX Runtime folds such pairs itself when the weight is a constant (frozen layers), which this leaves alone.
/// </summary>
public static class ConvBatchNormFolding
{
    /// <summary>Folds every eligible pair of <paramref name="graph"/>; <paramref name="trainable"/> are the graph inputs holding trainable parameters. Returns how many were folded.</summary>
    public static int Apply(Graph graph, long opset, IReadOnlySet<Value> trainable)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(trainable);
        int folded = 0;
        foreach (var norm in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0).ToList())
        {
            if (Foldable(graph, norm, trainable) is not { } conv) continue;
            Fold(graph, opset, conv, norm);
            folded++;
        }
        if (folded > 0) graph.SortTopologically();
        return folded;
    }

    private static Node? Foldable(Graph graph, Node norm, IReadOnlySet<Value> trainable)
    {
        if (norm.Int("training_mode", 0) != 0 || norm.Inputs.Count < 5 || norm.Inputs.Take(5).Any(i => i is null)) return null;
        if (norm.Outputs.Skip(1).Any(o => o.Users.Count > 0 || graph.Outputs.Contains(o))) return null;
        if (norm.Input(0)!.Producer is not { OpType: "Conv", Domain: "" } conv) return null;
        var convOutput = conv.Output();
        if (convOutput.Users.Count != 1 || graph.Outputs.Contains(convOutput)) return null;
        var weight = conv.Input(1)!;
        if (!trainable.Contains(weight) || weight.Type?.Shape is not { Count: >= 3 } || !IsFloat(weight.Type.ElementType)) return null;
        // The running statistics must be constants: sqrt(var + eps) is computed here, once.
        return norm.Input(3)!.IsInitializer && norm.Input(4)!.IsInitializer ? conv : null;
    }

    private static bool IsFloat(DataType type) => type is DataType.Float or DataType.Double;

    private static void Fold(Graph graph, long opset, Node conv, Node norm)
    {
        var (x, weight, convBias) = (conv.Input(0)!, conv.Input(1)!, conv.Input(2));
        var (scale, shift, mean, variance) = (norm.Input(1)!, norm.Input(2)!, norm.Input(3)!, norm.Input(4)!);
        var type = weight.Type!.ElementType;
        int rank = weight.Type.Shape!.Count;
        double epsilon = norm.Float("epsilon", 1e-5f);
        double[] invStd = Array.ConvertAll(variance.Initializer!.ToDoubles(), v => 1 / Math.Sqrt(v + epsilon));
        var output = norm.Output();
        var attributes = conv.Attributes.Values.ToList();
        string name = conv.Name;
        graph.RemoveNode(norm);
        graph.RemoveNode(conv);

        var b = new GraphBuilder(graph, opset, name + "/bn_fold");
        var perChannel = scale.Initializer is { } scaleData
            ? b.Constant(FloatConstants.Of(type, [invStd.Length], [.. scaleData.ToDoubles().Select((g, m) => g * invStd[m])]), "scale")
            : b.Mul(scale, b.Constant(FloatConstants.Of(type, [invStd.Length], invStd), "inv_std"));
        var foldedWeight = b.Mul(weight, b.Reshape(perChannel, [-1, .. Enumerable.Repeat(1L, rank - 1)]));
        // B + (b - mean) * s; without a Conv bias, B - mean * s.
        var centeredBias = convBias is null ? b.Neg(mean) : b.Sub(convBias, mean);
        var foldedBias = b.Add(shift, b.Mul(centeredBias, perChannel));
        graph.AddNodeWithOutputs("Conv", [x, foldedWeight, foldedBias], [output], attributes, name);
    }
}
