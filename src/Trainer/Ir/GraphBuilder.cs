namespace OnnxTrainer.Ir;

/// <summary>
/// Appends nodes to a graph with fresh unique names: the small vocabulary that graph passes, the
/// gradient rules and the artifact builder write graphs in. Methods pick the operator form that the
/// graph's opset requires (e.g. ReduceSum axes as an attribute before opset 13, as an input after).
/// </summary>
public class GraphBuilder(Graph graph, long opset, string prefix)
{
    public Graph Graph { get; } = graph;
    public long Opset { get; } = opset;
    /// <summary>Name prefix for new nodes and values, so emitted nodes say what they belong to.</summary>
    public string Prefix { get; } = prefix;

    public Value Op(string opType, IEnumerable<Value?> inputs, params Attribute[] attributes) =>
        OpN(opType, inputs, 1, attributes)[0];

    public IReadOnlyList<Value> OpN(string opType, IEnumerable<Value?> inputs, int outputs, params Attribute[] attributes)
    {
        string baseName = $"{Prefix}/{opType}";
        var names = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? baseName : $"{baseName}_{i}");
        return Graph.AddNode(opType, inputs, names, attributes, Graph.FreshName(baseName)).Outputs;
    }

    public Value Constant(Tensor data, string hint = "const") => Graph.AddInitializer(Graph.FreshName($"{Prefix}/{hint}"), data);

    /// <summary>A float scalar of the given element type (float or double).</summary>
    public Value Scalar(double value, DataType type = DataType.Float) => type switch
    {
        DataType.Double => Constant(Tensor.FromDoubles([], [value]), "scalar"),
        DataType.Float => Constant(Tensor.FromFloats([], [(float)value]), "scalar"),
        _ => throw new NotSupportedException($"scalar of type {type}"),
    };

    public Value Ints(params long[] values) => Constant(Tensor.Vector(values), "ints");

    public Value Add(Value a, Value b) => Op("Add", [a, b]);
    public Value Sub(Value a, Value b) => Op("Sub", [a, b]);
    public Value Mul(Value a, Value b) => Op("Mul", [a, b]);
    public Value Div(Value a, Value b) => Op("Div", [a, b]);
    public Value Neg(Value a) => Op("Neg", [a]);
    public Value Exp(Value a) => Op("Exp", [a]);
    public Value Log(Value a) => Op("Log", [a]);
    public Value Sqrt(Value a) => Op("Sqrt", [a]);
    public Value Reciprocal(Value a) => Op("Reciprocal", [a]);
    public Value Identity(Value a) => Op("Identity", [a]);

    /// <summary>Sum of several values (one Sum node instead of a chain of Adds).</summary>
    public Value Sum(IReadOnlyList<Value> values) => values.Count == 1 ? values[0] : Op("Sum", values);

    public Value MatMul(Value a, Value b) => Op("MatMul", [a, b]);

    public Value Transpose(Value x, params long[] perm) => Op("Transpose", [x], Attribute.Of("perm", perm));

    public Value Reshape(Value x, params long[] shape) => Op("Reshape", [x, Ints(shape)]);

    public Value Reshape(Value x, Value shape) => Op("Reshape", [x, shape]);

    public Value Shape(Value x) => Op("Shape", [x]);

    public Value Cast(Value x, DataType to) => Op("Cast", [x], Attribute.Of("to", (long)to));

    public Value ReduceSum(Value x, IReadOnlyList<long> axes, bool keepDims) =>
        Opset >= 13
            ? Op("ReduceSum", [x, Ints([.. axes])], Attribute.Of("keepdims", keepDims ? 1L : 0L))
            : Op("ReduceSum", [x], Attribute.Of("axes", axes), Attribute.Of("keepdims", keepDims ? 1L : 0L));

    public Value ReduceMean(Value x, IReadOnlyList<long> axes, bool keepDims) => Reduce("ReduceMean", x, axes, keepDims);

    public Value ReduceMax(Value x, IReadOnlyList<long> axes, bool keepDims) => Reduce("ReduceMax", x, axes, keepDims);

    /// <summary>Reductions other than ReduceSum took axes as an input only from opset 18.</summary>
    private Value Reduce(string op, Value x, IReadOnlyList<long> axes, bool keepDims) =>
        Opset >= 18
            ? Op(op, [x, Ints([.. axes])], Attribute.Of("keepdims", keepDims ? 1L : 0L))
            : Op(op, [x], Attribute.Of("axes", axes), Attribute.Of("keepdims", keepDims ? 1L : 0L));

    public Value Unsqueeze(Value x, params long[] axes) =>
        Opset >= 13 ? Op("Unsqueeze", [x, Ints(axes)]) : Op("Unsqueeze", [x], Attribute.Of("axes", axes));

    public Value Squeeze(Value x, params long[] axes) =>
        Opset >= 13 ? Op("Squeeze", [x, Ints(axes)]) : Op("Squeeze", [x], Attribute.Of("axes", axes));

    /// <summary>Slice along the given axes (opset 10+ input form).</summary>
    public Value Slice(Value x, long[] starts, long[] ends, long[] axes, long[]? steps = null) =>
        Op("Slice", steps is null
            ? [x, Ints(starts), Ints(ends), Ints(axes)]
            : [x, Ints(starts), Ints(ends), Ints(axes), Ints(steps)]);

    /// <summary>Constant-mode Pad with per-axis begin and end amounts (opset 11+ input form); new elements take
    /// <paramref name="value"/> (a scalar), zero when absent.</summary>
    public Value Pad(Value x, long[] begins, long[] ends, Value? value = null) =>
        Op("Pad", value is null ? [x, Ints([.. begins, .. ends])] : [x, Ints([.. begins, .. ends]), value]);
}
