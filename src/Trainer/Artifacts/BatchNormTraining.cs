using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Puts BatchNormalization layers in training mode, as torch's <c>model.train()</c> does: each selected node is
/// replaced by its batch-statistics form in standard operators that all have gradient rules,
/// <c>y = (x - mean) / sqrt(var + eps) * scale + B</c> with the mean and the biased variance over every axis
/// but the channels, and the batch mean and unbiased variance (what torch folds into the running statistics)
/// become extra graph outputs. Run it on the forward model before building the training graph, and keep the
/// extra outputs with <see cref="TrainingGraph.BuildTraining"/>'s <c>keptOutputs</c>.
/// </summary>
public static class BatchNormTraining
{
    private const string BatchSuffix = ".batch";

    /// <summary>
    /// Rewrites every BatchNormalization node for which <paramref name="train"/> is true; returns one entry per
    /// rewritten node (empty, with the graph untouched, when none is selected). The running statistics stay
    /// initializers but the rewritten graph no longer reads them: rewrite a copy meant for the training graph,
    /// while eval and export keep inference-form BatchNorm over the running statistics the loop updates.
    /// </summary>
    public static IReadOnlyList<BatchStatistics> Apply(Graph graph, long opset, Func<Node, bool> train)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(train);
        var selected = graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0 && train(n)).ToList();
        return [.. selected.Select(node => Rewrite(graph, opset, node))];
    }

    /// <summary>
    /// torch's running-statistic update, <c>running = (1 - momentum) * running + momentum * batch</c>, computed in
    /// double as torch's CPU kernel does. <paramref name="updated"/> may be <paramref name="running"/> itself.
    /// </summary>
    public static void UpdateRunning(ReadOnlySpan<float> running, ReadOnlySpan<float> batch, double momentum, Span<float> updated)
    {
        if (batch.Length != running.Length || updated.Length != running.Length)
            throw new ArgumentException($"running ({running.Length}), batch ({batch.Length}) and updated ({updated.Length}) statistics differ in length");
        for (int i = 0; i < running.Length; i++)
            updated[i] = (float)((1 - momentum) * running[i] + momentum * batch[i]);
    }

    /// <summary>torch's momentum from ONNX's (its complement; torch exports 0.9 for the default 0.1).</summary>
    public static double TorchMomentum(Node batchNorm)
    {
        ArgumentNullException.ThrowIfNull(batchNorm);
        // Via decimal, so the float attribute 0.9f gives exactly 0.1 rather than 0.10000002.
        return (double)(1 - (decimal)batchNorm.Float("momentum", 0.9f));
    }

    private static BatchStatistics Rewrite(Graph graph, long opset, Node node)
    {
        if (node.Inputs.Count < 5 || node.Inputs.Take(5).Any(i => i is null))
            throw new GraphException($"BatchNormalization '{node.Name}' needs its five inputs (X, scale, B, mean, var)");
        if (node.Outputs.Skip(1).Any(o => o.Users.Count > 0 || graph.Outputs.Contains(o)))
            throw new GraphException($"BatchNormalization '{node.Name}' already uses its training-mode outputs (running mean/var); cannot rewrite it");
        var x = node.Inputs[0]!;
        var scale = node.Inputs[1]!;
        var bias = node.Inputs[2]!;
        var runningMean = node.Inputs[3]!;
        var runningVariance = node.Inputs[4]!;
        var y = node.Output();
        if (x.Type?.Shape is not { Count: >= 2 } shape)
            throw new GraphException($"BatchNormalization '{node.Name}': the rank of input '{x.Name}' must be known and at least 2 (got {x.Type})");
        long channels = shape[1].Value ?? (scale.Type?.KnownDims is [var c] ? c
            : throw new GraphException($"BatchNormalization '{node.Name}': the channel count of '{x.Name}' is unknown"));
        var elementType = x.Type.ElementType;
        string meanName = runningMean.Name + BatchSuffix, varianceName = runningVariance.Name + BatchSuffix;
        foreach (var name in new[] { meanName, varianceName })
            if (graph.Contains(name))
                throw new GraphException($"BatchNormalization '{node.Name}': the batch statistic name '{name}' is already used (is the running statistic shared by two nodes?)");
        double epsilon = node.Float("epsilon", 1e-5f);
        double momentum = TorchMomentum(node);

        graph.RemoveNode(node);
        var b = new GraphBuilder(graph, opset, node.Name + "/train");
        long[] axes = [0, .. Enumerable.Range(2, shape.Count - 2).Select(a => (long)a)];
        long[] perChannel = [channels, .. Enumerable.Repeat(1L, shape.Count - 2)];
        var mean = b.ReduceMean(x, axes, keepDims: true);
        var centered = b.Sub(x, mean);
        // Biased variance normalizes, as torch does; the unbiased one only feeds the running update.
        var variance = b.ReduceMean(b.Mul(centered, centered), axes, keepDims: true);
        var normalized = b.Div(centered, b.Sqrt(b.Add(variance, ScalarNode(b, epsilon, elementType))));
        var scaled = b.Mul(normalized, shape.Count == 2 ? scale : b.Reshape(scale, perChannel));
        graph.AddNodeWithOutputs("Add", [scaled, shape.Count == 2 ? bias : b.Reshape(bias, perChannel)], [y], name: graph.FreshName($"{b.Prefix}/Add"));

        var statisticType = TensorType.Of(elementType, channels);
        var batchMean = graph.CreateValue(meanName, statisticType);
        graph.AddNodeWithOutputs("Reshape", [mean, b.Ints(channels)], [batchMean], name: graph.FreshName(meanName));
        // n / (n - 1) with n = N * spatial elements per channel, from the runtime size: the batch dimension is symbolic.
        var count = b.Cast(b.Div(b.Op("Size", [x]), b.Constant(Tensor.Scalar(channels), "channels")), elementType);
        var correction = b.Div(count, b.Sub(count, ScalarNode(b, 1, elementType)));
        var batchVariance = graph.CreateValue(varianceName, statisticType);
        graph.AddNodeWithOutputs("Mul", [b.Reshape(variance, channels), correction], [batchVariance], name: graph.FreshName(varianceName));
        graph.Outputs.Add(batchMean);
        graph.Outputs.Add(batchVariance);
        return new BatchStatistics(node.Name, runningMean.Name, runningVariance.Name, meanName, varianceName, momentum);
    }

    /// <summary>A Constant node rather than an initializer: float initializers read by Add or Sub count as learnable parameters.</summary>
    private static Value ScalarNode(GraphBuilder b, double value, DataType type) =>
        b.Op("Constant", [], Attribute.Of("value", type == DataType.Double ? Tensor.FromDoubles([], [value]) : Tensor.Scalar((float)value)));
}
