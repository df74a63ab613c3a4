using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff.Rules;

// Operators that only move or re-view data: their gradients move the upstream gradient back.

/// <summary>
/// Reshape, Flatten, Squeeze, Unsqueeze: the gradient is the upstream gradient viewed in the input's shape.
/// The shape is taken at run time so that a symbolic batch dimension needs no special case.
/// </summary>
internal sealed class ReshapeLikeGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) =>
        [c.Reshape(c.GO(0)!, c.Shape(c.I(0))), .. Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1)];
}

/// <summary>Expand broadcasts its input, so the gradient sums over the broadcast axes.</summary>
internal sealed class ExpandGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.SumToShape(c.GO(0)!, c.O(0), c.I(0)), null];
}

internal sealed class TransposeGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        int rank = c.RankOf(c.I(0));
        var perm = c.Node.Ints("perm") is { Count: > 0 } p ? p : [.. Enumerable.Range(0, rank).Reverse().Select(a => (long)a)];
        var inverse = new long[rank];
        for (int i = 0; i < rank; i++) inverse[perm[i]] = i;
        if (inverse.Select((axis, i) => axis == i).All(same => same)) return [c.GO(0)];
        return [c.Transpose(c.GO(0)!, inverse)];
    }
}
