using OnnxTrainer.Ir;

namespace OnnxTrainer.Export;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv that feeds it (per output channel:
/// W' = W * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta). Quantization needs
/// it so that Conv output feeds its activation directly, where the int8 kernels fuse.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds every foldable pair; returns how many (0 when nothing changed).</summary>
    public static int Run(Graph graph)
    {
        var pairs = graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0 && n.Int("training_mode", 0) == 0)
            .Select(bn => (Conv: FoldableConv(graph, bn), BatchNorm: bn)).Where(p => p.Conv is not null).ToList();
        foreach (var (conv, batchNorm) in pairs) Fold(graph, conv!, batchNorm);
        return pairs.Count;
    }

    /// <summary>The Conv whose only reader is <paramref name="batchNorm"/>, with constant weights and statistics; null otherwise.</summary>
    private static Node? FoldableConv(Graph graph, Node batchNorm)
    {
        var x = batchNorm.Input(0)!;
        if (x.Producer is not { OpType: "Conv", Domain: "" } conv || x.Users.Count != 1 || graph.Outputs.Contains(x)) return null;
        bool constant(Value? v) => v is { Initializer.ElementType: DataType.Float };
        if (!constant(conv.Input(1)) || (conv.Input(2) is { } bias && !constant(bias))) return null;
        return Enumerable.Range(1, 4).All(i => constant(batchNorm.Input(i))) ? conv : null;
    }

    private static void Fold(Graph graph, Node conv, Node batchNorm)
    {
        var weight = conv.Input(1)!.Initializer!;
        var w = weight.ToFloats();
        int channels = (int)weight.Dims[0], perChannel = w.Length / channels;
        var bias = conv.Input(2)?.Initializer!.ToFloats() ?? new float[channels];
        var (gamma, beta, mean, variance) = (Floats(batchNorm, 1), Floats(batchNorm, 2), Floats(batchNorm, 3), Floats(batchNorm, 4));
        double epsilon = batchNorm.Float("epsilon", 1e-5f);
        var foldedBias = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double factor = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            for (int i = 0; i < perChannel; i++) w[c * perChannel + i] = (float)(w[c * perChannel + i] * factor);
            foldedBias[c] = (float)((bias[c] - mean[c]) * factor + beta[c]);
        }

        var output = conv.Output(0);
        var inputs = new[]
        {
            conv.Input(0),
            graph.AddInitializer(graph.FreshName(conv.Input(1)!.Name + ".folded"), Tensor.FromFloats(weight.Dims, w)),
            graph.AddInitializer(graph.FreshName(conv.Name + ".folded_bias"), Tensor.FromFloats([channels], foldedBias)),
        };
        var attributes = conv.Attributes.Values.ToList();
        string name = conv.Name;
        graph.ReplaceAllUsesWith(batchNorm.Output(0), output);
        graph.RemoveNode(batchNorm);
        graph.RemoveNode(conv);
        graph.AddNodeWithOutputs("Conv", inputs, [output], attributes, name);
    }

    private static float[] Floats(Node node, int input) => node.Input(input)!.Initializer!.ToFloats();
}
