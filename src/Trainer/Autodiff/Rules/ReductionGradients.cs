using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>ReduceSum and ReduceMean: the upstream gradient is broadcast back over the reduced axes (divided by the count for the mean).</summary>
internal sealed class ReduceGradient(bool mean) : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        int rank = c.RankOf(x);
        var extra = Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1);
        if (ReducedAxes(c, rank) is not { } axes) return [c.GO(0), .. extra];

        var grad = c.GO(0)!;
        if (c.Attr("keepdims", 1) == 0) grad = c.Unsqueeze(grad, axes);
        if (mean)
        {
            var shape = c.ShapeOf(x);
            grad = axes.All(a => shape[(int)a].IsKnown)
                ? c.Mul(grad, c.ScalarLike(1.0 / axes.Aggregate(1L, (n, a) => n * shape[(int)a].Value!.Value), x))
                : c.Div(grad, c.Cast(c.Op("ReduceProd", [c.Op("Gather", [c.Shape(x), c.Ints(axes)])], Attribute.Of("keepdims", 0L)), c.ElementType(x)));
        }
        return [c.Op("Expand", [grad, c.Shape(x)]), .. extra];
    }

    /// <summary>Sorted non-negative axes, or null when the node is a no-op (empty axes with noop_with_empty_axes).</summary>
    private static long[]? ReducedAxes(GradientContext c, int rank)
    {
        IReadOnlyList<long>? axes = c.Node.Ints("axes");
        if (axes is null && c.Node.Input(1) is { } axesInput)
            axes = axesInput.Initializer?.ToInt64s() ?? throw new GraphException($"{c.Node}: reduction axes must be constant");
        if (axes is null || axes.Count == 0)
            return c.Attr("noop_with_empty_axes", 0) == 1 ? null : [.. Enumerable.Range(0, rank).Select(a => (long)a)];
        return [.. axes.Select(a => a < 0 ? a + rank : a).Order()];
    }
}
