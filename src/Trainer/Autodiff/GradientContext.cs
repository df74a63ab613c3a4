using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff;

/// <summary>
/// What a gradient rule sees of one forward node: its inputs I(i), outputs O(i), the upstream
/// gradients GO(i), and the graph-building vocabulary (inherited from <see cref="GraphBuilder"/>).
/// Forward values are shared with the backward graph, never recomputed.
/// </summary>
public sealed class GradientContext : GraphBuilder
{
    private readonly IReadOnlyList<Value?> _upstream;
    private readonly Func<Value, bool> _needsGradient;
    private Value? _one;

    internal GradientContext(Graph graph, long opset, Node node, IReadOnlyList<Value?> upstream, Func<Value, bool> needsGradient,
        GradientFormulations formulations)
        : base(graph, opset, node.Name + GradientBuilder.BackwardSuffix)
    {
        Node = node;
        Formulations = formulations;
        _upstream = upstream;
        _needsGradient = needsGradient;
    }

    public Node Node { get; }

    /// <summary>Which formulation to emit where a rule has a choice.</summary>
    public GradientFormulations Formulations { get; }

    public Value I(int i) => Node.Input(i) ?? throw new GraphException($"{Node}: input {i} is absent");

    public Value O(int i) => Node.Output(i);

    /// <summary>The data of an initializer or of a Constant node's output (exporters emit both); null when computed in the graph.</summary>
    public static Tensor? ConstantData(Value v) => Ir.Shapes.ConstantRule.DataOf(v);

    /// <summary>Upstream gradient of output i, or null when nothing downstream depends on it.</summary>
    public Value? GO(int i) => i < _upstream.Count ? _upstream[i] : null;

    /// <summary>Upstream gradient of output i, materialized as zeros when absent (for multi-output ops).</summary>
    public Value GOOrZeros(int i) => GO(i) ?? Zeros(Shape(O(i)), ElementType(O(i)));

    /// <summary>Zeros of a runtime shape, double for <paramref name="type"/> double, else float.</summary>
    public Value Zeros(Value shape, DataType type) => Op("ConstantOfShape", [shape],
        Attribute.Of("value", type == DataType.Double ? Tensor.FromDoubles([1], [0.0]) : Tensor.FromFloats([1], [0f])));

    /// <summary>Whether input i leads back to a trainable parameter; rules skip the work for other inputs.</summary>
    public bool NeedsGradient(int i) => Node.Input(i) is { } v && _needsGradient(v);

    /// <summary>The scalar 1 in the node's floating-point type.</summary>
    public Value One => _one ??= Scalar(1, ElementType(O(0)));

    public Value ScalarLike(double value, Value like) => Scalar(value, ElementType(like));

    public DataType ElementType(Value v) => v.Type?.ElementType is { } t && t != DataType.Undefined
        ? t : throw new GraphException($"{Node}: type of '{v.Name}' is unknown; run shape inference first");

    /// <summary>Static shape of a value (dims may be symbolic); an error when even the rank is unknown.</summary>
    public IReadOnlyList<Dim> ShapeOf(Value v) => v.Type?.Shape
        ?? throw new GraphException($"{Node}: shape of '{v.Name}' is unknown; run shape inference first");

    public int RankOf(Value v) => ShapeOf(v).Count;

    public long Attr(string name, long fallback) => Node.Int(name, fallback);

    /// <summary>
    /// Undoes numpy broadcasting: sums <paramref name="grad"/> (shaped like <paramref name="from"/>) over the
    /// axes that were broadcast to produce it from <paramref name="to"/>, and drops the leading axes <paramref name="to"/> lacks.
    /// </summary>
    public Value SumToShape(Value grad, Value from, Value to)
    {
        var outShape = ShapeOf(from);
        var inShape = ShapeOf(to);
        int lead = outShape.Count - inShape.Count;
        var axes = new List<long>();
        for (int axis = 0; axis < outShape.Count; axis++)
        {
            if (axis < lead) { axes.Add(axis); continue; }
            var target = inShape[axis - lead];
            if (target.Value == 1 && outShape[axis].Value != 1) axes.Add(axis);
            else if (target != outShape[axis] && !(target.IsKnown && outShape[axis].IsKnown))
                throw new GraphException($"{Node}: cannot tell whether '{to.Name}' was broadcast along axis {axis} ({target} vs {outShape[axis]})");
        }
        if (axes.Count == 0) return grad;
        var summed = ReduceSum(grad, axes, keepDims: true);
        return lead == 0 ? summed : Squeeze(summed, [.. Enumerable.Range(0, lead).Select(a => (long)a)]);
    }
}
