using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// Constant-mode Pad: the gradient of the data is GO with the padding sliced away. Negative pads crop
/// the input, so those positions get zeros back through a Pad; the pads must be constant (they
/// almost always are, and the sizes decide the graph). The constant value, when trainable, receives
/// everything that fell on the padding: sum(GO) - sum(interior).
/// </summary>
internal sealed class PadGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        string mode = c.Node.String("mode", "constant");
        if (mode != "constant")
            throw new GraphException($"{c.Node}: the gradient of Pad is supported in constant mode only (got mode '{mode}')");
        var x = c.I(0);
        int rank = c.RankOf(x);
        var (begins, ends) = PerAxisPads(c, rank);

        // Slice away positive pads; Slice's end counts from the end, and long.MaxValue means "to the end".
        var sliceAxes = Enumerable.Range(0, rank).Where(a => begins[a] > 0 || ends[a] > 0).ToArray();
        var interior = sliceAxes.Length == 0 ? c.GO(0)! : c.Slice(c.GO(0)!,
            [.. sliceAxes.Select(a => Math.Max(begins[a], 0))],
            [.. sliceAxes.Select(a => ends[a] > 0 ? -ends[a] : long.MaxValue)],
            [.. sliceAxes.Select(a => (long)a)]);

        Value? dx = null;
        if (c.NeedsGradient(0))
        {
            bool crops = begins.Concat(ends).Any(p => p < 0);
            dx = crops ? c.Pad(interior, [.. begins.Select(p => Math.Max(-p, 0))], [.. ends.Select(p => Math.Max(-p, 0))])
                : sliceAxes.Length == 0 ? c.Identity(interior) : interior;
        }

        Value? dValue = null;
        if (c.NeedsGradient(2))
        {
            var all = Enumerable.Range(0, rank).Select(a => (long)a).ToArray();
            dValue = c.Sub(c.ReduceSum(c.GO(0)!, all, keepDims: false), c.ReduceSum(interior, all, keepDims: false));
            if (c.RankOf(c.I(2)) == 1) dValue = c.Unsqueeze(dValue, 0);
        }
        Value?[] gradients = [dx, null, dValue, .. Enumerable.Repeat<Value?>(null, Math.Max(0, c.Node.Inputs.Count - 3))];
        return gradients[..c.Node.Inputs.Count];
    }

    /// <summary>Begin and end pads for every axis of the data, from the pads input (or attribute) and the optional axes input.</summary>
    private static (long[] Begins, long[] Ends) PerAxisPads(GradientContext c, int rank)
    {
        long[] pads = c.Node.Ints("pads") is { } attribute ? [.. attribute]
            : ConstantInts(c, c.Node.Input(1), "pads") ?? throw new GraphException($"{c.Node}: pads are missing");
        long[] axes = ConstantInts(c, c.Node.Input(3), "axes") is { } given
            ? [.. given.Select(a => a < 0 ? a + rank : a)]
            : [.. Enumerable.Range(0, rank).Select(a => (long)a)];
        if (pads.Length != 2 * axes.Length)
            throw new GraphException($"{c.Node}: {pads.Length} pads for {axes.Length} axes");
        var begins = new long[rank];
        var ends = new long[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            begins[axes[i]] = pads[i];
            ends[axes[i]] = pads[i + axes.Length];
        }
        return (begins, ends);
    }

    private static long[]? ConstantInts(GradientContext c, Value? value, string what) => value switch
    {
        null => null,
        _ when GradientContext.ConstantData(value) is { } t => t.ToInt64s(),
        _ => throw new GraphException($"{c.Node}: the gradient of Pad needs constant {what} ('{value.Name}' is computed in the graph)"),
    };
}
