using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Appends a new classifier to backbone features: global average pooling (or plain flattening) for feature
/// maps, optional hidden Gemm+Relu layers, and the output Gemm producing <c>logits</c>; with dropout, an
/// inference-mode Dropout node before each Gemm (see <see cref="HeadDropout"/> for its training forms). Weights are laid
/// out as PyTorch's nn.Linear ([out, in], transB=1) and initialized as nn.Linear does by default
/// (He-uniform with a = sqrt(5): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), from a seed.
/// </summary>
public static class ClassifierHeadBuilder
{
    public const string Prefix = "head";

    /// <summary>Builds the head; returns its parameter names in graph order. The graph's only output becomes the logits.</summary>
    public static IReadOnlyList<string> Append(Graph graph, long opset, Value features, int classes, IReadOnlyList<int> hidden, int seed,
        HeadPooling pooling = HeadPooling.Average, double dropout = 0)
    {
        var shape = features.Type?.Shape ?? throw new GraphException($"the shape of features '{features.Name}' is unknown");
        var b = new GraphBuilder(graph, opset, Prefix);
        var x = features;
        long width;
        switch (shape.Count)
        {
            case 4 when pooling == HeadPooling.Flatten:
                x = b.Op("Flatten", [x]);
                width = shape.Skip(1).Aggregate(1L, (n, d) => n * (d.Value ?? throw new GraphException($"flattening features '{features.Name}' needs static C, H, W (got {features.Type})")));
                break;
            case 4:
                x = b.Op("Flatten", [b.Op("GlobalAveragePool", [x])]);
                width = shape[1].Value ?? throw new GraphException($"features '{features.Name}' have an unknown channel count");
                break;
            case 2:
                width = shape[1].Value ?? throw new GraphException($"features '{features.Name}' have an unknown width");
                break;
            default:
                throw new GraphException($"a classifier head needs features of shape [N, C] or [N, C, H, W]; '{features.Name}' is {features.Type}");
        }

        var random = new Random(seed);
        var names = new List<string>();
        var layers = hidden.Append(classes).ToList();
        // Each layer's weight is one float array held as one byte array: refuse what cannot be allocated, before trying.
        const long MaxWeights = int.MaxValue / sizeof(float);
        for (int i = 0, inputs = 0; i < layers.Count; inputs = layers[i], i++)
        {
            long fanIn = i == 0 ? width : inputs;
            if (fanIn * layers[i] > MaxWeights)
                throw new GraphException($"the head's layer {i + 1} would hold {fanIn:N0} x {layers[i]:N0} weights, more than one tensor can " +
                    $"({MaxWeights:N0}); use fewer head.hidden units{(pooling == HeadPooling.Flatten ? " or head.pooling: average" : "")}");
        }
        for (int i = 0; i < layers.Count; i++)
        {
            bool last = i == layers.Count - 1;
            string layer = last ? $"{Prefix}.out" : $"{Prefix}.{i}";
            var weight = graph.AddInitializer($"{layer}.weight", Uniform(random, [layers[i], width]));
            var bias = graph.AddInitializer($"{layer}.bias", Uniform(random, [layers[i]], fanIn: width));
            if (dropout > 0)
            {
                var ratio = graph.AddInitializer($"{layer}.dropout_ratio", Tensor.Scalar((float)dropout));
                x = graph.AddNode("Dropout", [x, ratio], [$"{layer}.dropped"], name: $"{layer}.dropout").Output();
            }
            names.Add(weight.Name);
            names.Add(bias.Name);
            x = b.Op("Gemm", [x, weight, bias], Attribute.Of("transB", 1L));
            if (!last) x = b.Op("Relu", [x]);
            width = layers[i];
        }
        graph.Outputs.Clear();
        graph.Outputs.Add(x);
        return names;
    }

    private static Tensor Uniform(Random random, long[] dims, long? fanIn = null)
    {
        double bound = 1 / Math.Sqrt(fanIn ?? dims[^1]);
        var values = new float[Tensor.ElementCount(dims)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return Tensor.FromFloats(dims, values);
    }
}
