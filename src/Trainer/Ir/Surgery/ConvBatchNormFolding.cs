namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv that feeds it: <c>Conv(x, W * s, (b - mean) * s + B)</c>
/// with <c>s = scale / sqrt(var + eps)</c> per output channel, the same function to rounding. Two callers choose which
/// pairs: int8 export folds the constant ones (numerically, into new initializers) so that each Conv feeds its
/// activation directly where the int8 kernels fuse; training folds those whose Conv weight is trainable (as weight-sized
/// graph nodes the gradient builder differentiates), so the step loses the BatchNormalization's passes over the
/// activations. Running statistics must be constants: sqrt(var + eps) is computed here, once.
/// </summary>
public static class ConvBatchNormFolding
{
    /// <summary>Folds every eligible pair whose Conv weight satisfies <paramref name="foldsWeight"/>; returns how many (0: nothing changed).</summary>
    public static int Apply(Graph graph, long opset, Func<Value, bool> foldsWeight)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(foldsWeight);
        var pairs = graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0)
            .Select(norm => (Conv: FoldableConv(graph, norm), Norm: norm))
            .Where(p => p.Conv is not null && foldsWeight(p.Conv.Input(1)!)).ToList();
        foreach (var (conv, norm) in pairs)
        {
            if (AllConstant(conv!, norm)) FoldConstants(graph, conv!, norm);
            else FoldAsNodes(graph, opset, conv!, norm);
        }
        if (pairs.Count > 0) graph.SortTopologically();
        return pairs.Count;
    }

    /// <summary>The Conv whose output only <paramref name="norm"/> reads, when the pair can be folded; null otherwise.</summary>
    private static Node? FoldableConv(Graph graph, Node norm)
    {
        if (norm.Int("training_mode", 0) != 0 || norm.Inputs.Count < 5 || norm.Inputs.Take(5).Any(i => i is null)) return null;
        if (norm.Outputs.Skip(1).Any(o => o.Users.Count > 0 || graph.Outputs.Contains(o))) return null;
        if (norm.Input(0)!.Producer is not { OpType: "Conv", Domain: "" } conv) return null;
        var convOutput = conv.Output();
        if (convOutput.Users.Count != 1 || graph.Outputs.Contains(convOutput)) return null;
        var weight = conv.Input(1)!;
        if (weight.Type?.Shape is not { Count: >= 3 } || weight.Type.ElementType is not (DataType.Float or DataType.Double)) return null;
        return norm.Input(3)!.IsInitializer && norm.Input(4)!.IsInitializer ? conv : null;
    }

    private static bool AllConstant(Node conv, Node norm) =>
        conv.Inputs.Skip(1).All(i => i is null || i.IsInitializer) && norm.Inputs.Skip(1).Take(4).All(i => i!.IsInitializer);

    private static double[] InverseStd(Node norm)
    {
        double epsilon = norm.Float("epsilon", 1e-5f);
        return Array.ConvertAll(norm.Input(4)!.Initializer!.ToDoubles(), v => 1 / Math.Sqrt(v + epsilon));
    }

    /// <summary>Every input a constant: the folded weight and bias become new initializers, computed in float64.</summary>
    private static void FoldConstants(Graph graph, Node conv, Node norm)
    {
        var weight = conv.Input(1)!.Initializer!;
        var w = weight.ToDoubles();
        int channels = (int)weight.Dims[0], perChannel = w.Length / channels;
        var bias = conv.Input(2)?.Initializer!.ToDoubles() ?? new double[channels];
        var (gamma, beta, mean) = (norm.Input(1)!.Initializer!.ToDoubles(), norm.Input(2)!.Initializer!.ToDoubles(), norm.Input(3)!.Initializer!.ToDoubles());
        var invStd = InverseStd(norm);
        var foldedBias = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double factor = gamma[c] * invStd[c];
            for (int i = 0; i < perChannel; i++) w[c * perChannel + i] *= factor;
            foldedBias[c] = (bias[c] - mean[c]) * factor + beta[c];
        }
        var type = weight.ElementType;
        Replace(graph, conv, norm,
            graph.AddInitializer(graph.FreshName(conv.Input(1)!.Name + ".folded"), Tensor.FromReals(type, weight.Dims, w)),
            graph.AddInitializer(graph.FreshName(conv.Name + ".folded_bias"), Tensor.FromReals(type, [channels], foldedBias)));
    }

    /// <summary>A trainable input: the fold is weight-sized Mul/Sub/Add nodes in front of the Conv, differentiable as they stand.</summary>
    private static void FoldAsNodes(Graph graph, long opset, Node conv, Node norm)
    {
        var (weight, convBias) = (conv.Input(1)!, conv.Input(2));
        var (scale, shift, mean) = (norm.Input(1)!, norm.Input(2)!, norm.Input(3)!);
        var type = weight.Type!.ElementType;
        int rank = weight.Type.Shape!.Count;
        var invStd = InverseStd(norm);
        var b = new GraphBuilder(graph, opset, conv.Name + "/bn_fold");
        var perChannel = scale.Initializer is { } scaleData
            ? b.Constant(Tensor.FromReals(type, [invStd.Length], [.. scaleData.ToDoubles().Select((g, m) => g * invStd[m])]), "scale")
            : b.Mul(scale, b.Constant(Tensor.FromReals(type, [invStd.Length], invStd), "inv_std"));
        var foldedWeight = b.Mul(weight, b.Reshape(perChannel, [-1, .. Enumerable.Repeat(1L, rank - 1)]));
        // B + (b - mean) * s; without a Conv bias, B - mean * s.
        var centeredBias = convBias is null ? b.Neg(mean) : b.Sub(convBias, mean);
        Replace(graph, conv, norm, foldedWeight, b.Add(shift, b.Mul(centeredBias, perChannel)));
    }

    /// <summary>One Conv with the folded weight and bias now produces what the BatchNormalization did.</summary>
    private static void Replace(Graph graph, Node conv, Node norm, Value weight, Value bias)
    {
        var (x, output, attributes, name) = (conv.Input(0)!, norm.Output(), conv.Attributes.Values.ToList(), conv.Name);
        graph.RemoveNode(norm);
        graph.RemoveNode(conv);
        graph.AddNodeWithOutputs("Conv", [x, weight, bias], [output], attributes, name);
    }
}
