using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff.Rules;

internal static class SoftmaxAxes
{
    /// <summary>Before opset 13 Softmax/LogSoftmax flattened the input to 2-D at the axis: they normalize over all trailing axes.</summary>
    public static long[] Of(GradientContext c)
    {
        int rank = c.RankOf(c.I(0));
        long axis = c.Attr("axis", c.Opset >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        return c.Opset >= 13 ? [axis] : [.. Enumerable.Range((int)axis, rank - (int)axis).Select(a => (long)a)];
    }
}

/// <summary>dX = Y * (dY - sum(dY * Y)) over the softmax axis.</summary>
internal sealed class SoftmaxGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var y = c.O(0);
        var dy = c.GO(0)!;
        var dot = c.ReduceSum(c.Mul(dy, y), SoftmaxAxes.Of(c), keepDims: true);
        return [c.Mul(y, c.Sub(dy, dot))];
    }
}

/// <summary>dX = dY - exp(Y) * sum(dY) over the axis (exp of the log-softmax output is the softmax).</summary>
internal sealed class LogSoftmaxGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var dy = c.GO(0)!;
        var total = c.ReduceSum(dy, SoftmaxAxes.Of(c), keepDims: true);
        return [c.Sub(dy, c.Mul(c.Exp(c.O(0)), total))];
    }
}
