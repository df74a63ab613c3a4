using System.Runtime.InteropServices;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Export;

/// <summary>
/// Static int8 quantization in QDQ form (standard QuantizeLinear/DequantizeLinear pairs, which any
/// ONNX runtime executes and ONNX Runtime fuses into integer kernels where it can). BatchNormalization
/// is first folded into the Conv before it. For every Conv, Gemm and MatMul with a constant weight: its
/// activation input and its output (after a following Relu) get per-tensor uint8 Q/DQ pairs with ranges
/// calibrated on sample images; the weight becomes int8, symmetric, one scale per output channel; the
/// bias becomes int32 at scale activation x weight. Everything else stays float.
/// </summary>
public static class Int8Quantizer
{
    /// <summary>Per-axis DequantizeLinear needs opset 13.</summary>
    private const long MinimumOpset = 13;

    public static Model Quantize(Model model, IEnumerable<(float[] Images, long[] Shape)> calibration)
    {
        if (model.OpsetVersion < MinimumOpset)
            throw new GraphException($"int8 quantization needs opset {MinimumOpset} or newer; the model uses {model.OpsetVersion}");
        var copy = model.Clone();
        var graph = copy.Graph;
        ConvBatchNormFolding.Apply(graph, copy.OpsetVersion, weight => weight.IsInitializer);
        graph.RemoveDeadNodes(); // the unfolded weights: calibration must not load them
        var targets = graph.Nodes.Select(Target).OfType<QuantizedNode>().ToList();
        var activations = targets.Select(t => t.Node.Input(0)!).Concat(targets.Select(t => QuantizedOutput(graph, t.Node)).OfType<Value>())
            .Distinct().ToList();
        var ranges = ActivationRanges.Measure(copy, [.. activations.Select(a => a.Name)], calibration);

        var b = new GraphBuilder(graph, copy.OpsetVersion, "quant");
        var inputs = targets.ToDictionary(t => t.Node, t => t.Node.Input(0)!);
        var scales = new Dictionary<Value, float>();
        foreach (var activation in activations) scales[activation] = InsertQdq(b, activation, ranges[activation.Name]);

        foreach (var target in targets)
        {
            var weight = target.Node.Input(1)!;
            var weightScales = QuantizeWeight(b, graph, target.Node, weight, target.ChannelAxis);
            float activationScale = scales[inputs[target.Node]];
            if (target.Node.Input(2) is { IsInitializer: true } bias && bias.Initializer!.ElementType == DataType.Float && bias.Initializer.Dims.Length == 1)
                QuantizeBias(b, graph, target.Node, bias, weightScales, activationScale);
        }
        graph.RemoveDeadNodes();
        copy.DocString = (copy.DocString + " int8 QDQ: per-channel weights, calibrated activation ranges.").Trim();
        return copy;
    }

    /// <summary>
    /// The tensor after a quantized node that gets its own Q/DQ pair, so ONNX Runtime can fuse
    /// DequantizeLinear -> Conv -> QuantizeLinear into one integer kernel: the node's output, or the output
    /// of the Relu right after it (Relu folds into the quantization's zero point). Graph outputs stay float.
    /// </summary>
    private static Value? QuantizedOutput(Graph graph, Node node)
    {
        var output = node.Output(0);
        if (output.Users is [{ OpType: "Relu", Domain: "" } relu] && !graph.Outputs.Contains(output)) output = relu.Output(0);
        return graph.Outputs.Contains(output) ? null : output;
    }

    /// <summary>Every reader of <paramref name="activation"/> now reads it quantized and dequantized; returns the scale.</summary>
    private static float InsertQdq(GraphBuilder b, Value activation, (float Min, float Max) range)
    {
        var readers = activation.Users.Distinct().ToList();
        var (scale, zeroPoint) = ActivationParameters(range);
        var scaleValue = b.Constant(Tensor.Scalar(scale), "scale");
        var zeroValue = b.Constant(new Tensor(DataType.UInt8, [], new[] { zeroPoint }), "zero_point");
        var dequantized = b.Op("DequantizeLinear", [b.Op("QuantizeLinear", [activation, scaleValue, zeroValue]), scaleValue, zeroValue]);
        foreach (var reader in readers)
            for (int i = 0; i < reader.Inputs.Count; i++)
                if (ReferenceEquals(reader.Inputs[i], activation)) b.Graph.SetNodeInput(reader, i, dequantized);
        return scale;
    }

    private sealed record QuantizedNode(Node Node, int ChannelAxis);

    /// <summary>Nodes whose weight is a float constant, and the weight axis that indexes output channels.</summary>
    private static QuantizedNode? Target(Node node)
    {
        if (node.Domain.Length != 0 || node.Input(0) is null || node.Input(1) is not { IsInitializer: true } weight || weight.Initializer!.ElementType != DataType.Float)
            return null;
        int rank = weight.Initializer.Dims.Length;
        return node.OpType switch
        {
            "Conv" when rank >= 3 => new QuantizedNode(node, 0),
            "Gemm" when rank == 2 && node.Int("transA", 0) == 0 => new QuantizedNode(node, node.Int("transB", 0) != 0 ? 0 : 1),
            "MatMul" when rank == 2 => new QuantizedNode(node, 1),
            _ => null,
        };
    }

    /// <summary>uint8 with the range widened to include 0, so zero (padding, ReLU floor) is exact.</summary>
    private static (float Scale, byte ZeroPoint) ActivationParameters((float Min, float Max) range)
    {
        float min = Math.Min(range.Min, 0), max = Math.Max(range.Max, 0);
        if (!(max > min)) return (1f, 0);
        float scale = (max - min) / 255f;
        return (scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    private static float[] QuantizeWeight(GraphBuilder b, Graph graph, Node node, Value weight, int axis)
    {
        var tensor = weight.Initializer!;
        var values = tensor.ToFloats();
        var (outer, channels, inner) = Split(tensor.Dims, axis);
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float maxAbs = 0;
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++) maxAbs = Math.Max(maxAbs, Math.Abs(values[(o * channels + c) * inner + i]));
            scales[c] = maxAbs > 0 ? maxAbs / 127f : 1f;
        }
        var quantized = new sbyte[values.Length];
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < inner; i++)
                {
                    int index = (o * channels + c) * inner + i;
                    quantized[index] = (sbyte)Math.Clamp(Math.Round(values[index] / scales[c]), -127, 127);
                }
        var stored = graph.AddInitializer(graph.FreshName(weight.Name + ".int8"), new Tensor(DataType.Int8, tensor.Dims, MemoryMarshal.AsBytes(quantized.AsSpan()).ToArray()));
        var dequantized = b.Op("DequantizeLinear",
            [stored, b.Constant(Tensor.FromFloats([channels], scales), "weight_scale"), b.Constant(new Tensor(DataType.Int8, [channels], new byte[channels]), "weight_zero_point")],
            Attribute.Of("axis", (long)axis));
        graph.SetNodeInput(node, 1, dequantized);
        return scales;
    }

    private static void QuantizeBias(GraphBuilder b, Graph graph, Node node, Value bias, float[] weightScales, float activationScale)
    {
        var values = bias.Initializer!.ToFloats();
        if (values.Length != weightScales.Length) return;
        var scales = Array.ConvertAll(weightScales, s => s * activationScale);
        var quantized = new int[values.Length];
        for (int c = 0; c < values.Length; c++)
            quantized[c] = (int)Math.Clamp(Math.Round(values[c] / scales[c]), int.MinValue, int.MaxValue);
        var stored = graph.AddInitializer(graph.FreshName(bias.Name + ".int32"), Tensor.FromInt32s(bias.Initializer.Dims, quantized));
        var dequantized = b.Op("DequantizeLinear",
            [stored, b.Constant(Tensor.FromFloats([values.Length], scales), "bias_scale"), b.Constant(Tensor.FromInt32s([values.Length], new int[values.Length]), "bias_zero_point")],
            Attribute.Of("axis", 0L));
        graph.SetNodeInput(node, 2, dequantized);
    }

    private static (int Outer, int Channels, int Inner) Split(long[] dims, int axis)
    {
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= dims[d];
        for (int d = axis + 1; d < dims.Length; d++) inner *= dims[d];
        return ((int)outer, (int)dims[axis], (int)inner);
    }
}
