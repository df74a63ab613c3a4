using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Re-initializes a pretrained network for training from scratch, with torchvision's rules: convolution
/// kernels He-normal (fan_out, ReLU gain), linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
/// convolution biases zero, BatchNorm scale 1 and shift 0 with running statistics reset to 0 and 1.
/// </summary>
public static class ParameterInitializer
{
    public static void Reinitialize(Graph graph, IReadOnlyCollection<string> names, int seed)
    {
        var random = new Random(seed);
        var chosen = names.ToHashSet();
        foreach (var node in graph.TopologicalOrder())
        {
            switch (node.OpType)
            {
                case "Conv":
                    Set(graph, chosen, node.Input(1), dims => Normal(random, dims, Math.Sqrt(2.0 / (dims[0] * Tensor.ElementCount(dims[2..])))));
                    Set(graph, chosen, node.Input(2), dims => Filled(dims, 0));
                    break;
                case "Gemm" or "MatMul":
                    var weight = node.Input(1);
                    long fanIn = weight?.Initializer?.Dims is { Length: 2 } w ? (node.OpType == "Gemm" && node.Int("transB", 0) != 0 ? w[1] : w[0]) : 1;
                    Set(graph, chosen, weight, dims => Uniform(random, dims, 1 / Math.Sqrt(fanIn)));
                    if (node.OpType == "Gemm") Set(graph, chosen, node.Input(2), dims => Uniform(random, dims, 1 / Math.Sqrt(fanIn)));
                    break;
                case "BatchNormalization":
                    if (node.Input(1) is { } scale && chosen.Contains(scale.Name))
                    {
                        Set(graph, chosen, scale, dims => Filled(dims, 1));
                        Set(graph, chosen, node.Input(2), dims => Filled(dims, 0));
                        Reset(graph, node.Input(3), 0);
                        Reset(graph, node.Input(4), 1);
                    }
                    break;
            }
        }
    }

    private static void Set(Graph graph, HashSet<string> chosen, Value? value, Func<long[], float[]> values)
    {
        if (value?.Initializer is not { } current || !chosen.Contains(value.Name)) return;
        graph.SetInitializer(value, Tensor.FromFloats(current.Dims, values(current.Dims)));
    }

    private static void Reset(Graph graph, Value? statistic, float value)
    {
        if (statistic?.Initializer is { } current) graph.SetInitializer(statistic, Tensor.FromFloats(current.Dims, Filled(current.Dims, value)));
    }

    private static float[] Filled(long[] dims, float value)
    {
        var values = new float[Tensor.ElementCount(dims)];
        Array.Fill(values, value);
        return values;
    }

    private static float[] Uniform(Random random, long[] dims, double bound) =>
        [.. Enumerable.Range(0, (int)Tensor.ElementCount(dims)).Select(_ => (float)((random.NextDouble() * 2 - 1) * bound))];

    private static float[] Normal(Random random, long[] dims, double std) =>
        [.. Enumerable.Range(0, (int)Tensor.ElementCount(dims)).Select(_ =>
            (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
}
