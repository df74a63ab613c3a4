using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// LRN (AlexNet, GoogLeNet): Y = X / S^beta with S = bias + alpha / size * (sum of X^2 over a window of <c>size</c>
/// channels: floor((size-1)/2) before each channel and ceil((size-1)/2) after). Then
/// dX = GO * S^-beta - 2 alpha beta / size * X * W(GO * Y / S), where W sums, for each channel, over the channels whose
/// window holds it (the same window mirrored). Both window sums are one Conv with a kernel of ones along the channel
/// axis, which becomes a spatial axis once a unit channel axis is put in front of it.
/// </summary>
internal sealed class LrnGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var go = c.GO(0)!;
        long size = c.Attr("size", 0);
        if (size < 1) throw new GraphException($"{c.Node}: LRN needs a positive size");
        double alpha = c.Node.Float("alpha", 1e-4f), beta = c.Node.Float("beta", 0.75f), bias = c.Node.Float("bias", 1f);
        long before = (size - 1) / 2, after = size - 1 - before;

        int rank = c.RankOf(x);
        var squares = ChannelWindowSum(c, c.Mul(x, x), rank, size, before, after);
        var s = c.Add(c.ScalarLike(bias, x), c.Mul(c.ScalarLike(alpha / size, x), squares));
        var direct = c.Mul(go, c.Op("Pow", [s, c.ScalarLike(-beta, x)]));
        var spread = ChannelWindowSum(c, c.Div(c.Mul(go, c.O(0)), s), rank, size, after, before);
        return [c.Sub(direct, c.Mul(c.ScalarLike(2 * alpha * beta / size, x), c.Mul(x, spread)))];
    }

    /// <summary>Sum over channels c - <paramref name="before"/> .. c + <paramref name="after"/> (clipped at the ends) for every channel c.</summary>
    private static Value ChannelWindowSum(GradientContext c, Value z, int rank, long size, long before, long after)
    {
        // [N, C, D...] -> [N, 1, C, D...]: the channel axis becomes the first spatial axis of a Conv with one filter.
        long[] kernel = [1, 1, size, .. Enumerable.Repeat(1L, rank - 2)];
        double[] ones = [.. Enumerable.Repeat(1.0, (int)size)];
        var weights = c.ElementType(c.I(0)) == DataType.Double
            ? c.Constant(Tensor.FromDoubles(kernel, ones), "ones")
            : c.Constant(Tensor.FromFloats(kernel, Array.ConvertAll(ones, v => (float)v)), "ones");
        long[] zeros = [.. Enumerable.Repeat(0L, rank - 2)];
        var summed = c.Op("Conv", [c.Unsqueeze(z, 1), weights],
            Attribute.Of("kernel_shape", kernel[2..]), Attribute.Of("pads", [before, .. zeros, after, .. zeros]));
        return c.Squeeze(summed, 1);
    }
}
