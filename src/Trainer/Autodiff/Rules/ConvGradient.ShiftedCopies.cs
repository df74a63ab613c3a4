using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

internal sealed partial class ConvGradient
{
    /// <summary>
    /// The shared-gap grid's extra positions cost the Gemm (growth - 1) * k * M * C multiply-adds per output position; past
    /// this many the per-tap Gemms win (batch 16, ms, per tap -> shifted copies: 512@7 with 730k extra 13.7-16.2 -> 16.6-18.0,
    /// 256@7 (183k) 5.4 -> 7.5, 256@14 (87k) 13.1-15.1 -> 13.4-15.6, 128@7 (46k) 1.3 -> 1.2, 64@8 (10k) 0.7 -> 0.6, 128@28
    /// (10k) 17.7 -> 14.5, 32@16 (1k) 0.8 -> 0.5).
    /// </summary>
    private const double ShiftedCopiesMaximumExtraWork = 65536;

    /// <summary>
    /// The zeros after each row, image... of the grid <see cref="ShiftedCopiesWeightGradient"/> lays X and dY out on, or null
    /// where it does not serve: it needs stride 1 and every output as large as its input ("same" pads), so that one grid
    /// with max(pad begin, pad end) zeros per axis serves both.
    /// </summary>
    private static long[]? ShiftedCopiesGaps(ConvGeometry g, Node node)
    {
        if (g.Strides.Any(s => s != 1)) return null;
        var axes = Enumerable.Range(0, g.Rank);
        if (axes.Any(a => g.Out(a, node) != g.In(a, node))) return null;
        long[] gaps = [.. axes.Select(a => Math.Max(g.PadsBegin[a], g.PadsEnd[a]))];
        double growth = axes.Aggregate(1.0, (p, a) => p * (g.In(a, node) + gaps[a]) / g.In(a, node));
        double extraWork = (growth - 1) * Tensor.ElementCount(g.Kernel) * g.OutChannels * g.InChannels;
        return extraWork <= ShiftedCopiesMaximumExtraWork ? gaps : null;
    }

    /// <summary>
    /// Stride-1 "same" kernels: every tap in one Gemm. X and dY are laid out channels-first on one flat grid ([C, N*P])
    /// with gap zeros after each row and image, which serve as the padding on both sides of their neighbours, so tap
    /// (outer axes k, last axis j) reads X at a constant flat offset S(k) + o(j) from dY's position. A stacks dY shifted by
    /// S(k) for every outer tap ([M*Ko, R]), B stacks X shifted by o(j) for every last-axis tap ([C*Kj, R]), and A B^T is
    /// [M, Ko, C, Kj], every tap once. Each stack is written by one Concat of the whole flat tensor and zero gaps: a row of
    /// length R read across the concatenation is the copy, shifted. X and dY are copied k times each in long runs instead
    /// of X k^2 times into per-tap windows, and one Gemm reads dY once instead of k^2 Gemms each streaming dY and a window
    /// from memory (260 GFLOP/s at 56 px). Measured (batch 16, ms, per tap -> this): 64@56 22.5-24.4 -> 17.7-19.1, 128@28
    /// 17.6-17.9 -> 14.2-15.1, 16@32 1.1 -> 0.5; see <see cref="ShiftedCopiesMaximumExtraWork"/> for where it loses. Over
    /// few input channels every tap goes to B instead (batch 64, ms, correlation Conv -> this): 3->16 @32 2.3 -> 1.1,
    /// 3->32 @64 13.0-14.1 -> 10.7, 8->64 @32 9.2-16.6 -> 6.5-7.4, 12->12 @32 18.5-19.5 -> 2.1-2.8.
    /// </summary>
    private static Value ShiftedCopiesWeightGradient(GradientContext c, ConvGeometry g, Value dy, long[] gaps)
    {
        var node = c.Node;
        int r = g.Rank, last = r - 1;
        var rowStride = RowStrides([.. Enumerable.Range(0, r).Select(a => g.In(a, node) + gaps[a])]);
        Value Flat(Value t, long channels) =>
            c.Reshape(c.Transpose(c.Pad(t, new long[r + 2], [0, 0, .. gaps]), ChannelsFirst(r)), channels, -1);

        // Tap k reads X at (dY position) + (its outer-axes offset) + (its last-axis offset) - (the leading pads). Each tap's offset
        // is split between the two stacks: A's rows are dY shifted right by their part, B's rows X shifted right by the
        // leading pads minus theirs; both by delta more where that would be negative (a product of two right shifts only
        // sees their difference). The outer axes' taps go to A and the last axis' to B (k copies of each), or, where
        // that copies less (many more output than input channels, as over RGB), every tap goes to B and A is dY alone.
        var outerParts = new List<long>();
        var outerKernel = g.Kernel[..last];
        for (long t = 0; t < Tensor.ElementCount(outerKernel); t++)
        {
            var k = new long[last];
            Unravel(t, outerKernel, k);
            outerParts.Add(Enumerable.Range(0, last).Sum(a => k[a] * g.Dilations[a] * rowStride[a]));
        }
        long[] lastParts = [.. Enumerable.Range(0, (int)g.Kernel[last]).Select(j => j * g.Dilations[last])];
        bool allInB = g.OutChannels + outerParts.Count * lastParts.Length * g.InChannels
            < outerParts.Count * g.OutChannels + lastParts.Length * g.InChannels;
        long[] partsA = allInB ? [0] : [.. outerParts];
        long[] partsB = allInB ? [.. outerParts.SelectMany(s => lastParts.Select(o => s + o))] : lastParts;
        long leading = Enumerable.Range(0, r).Sum(a => g.PadsBegin[a] * rowStride[a]);
        long delta = Math.Max(0, partsB.Max() - leading);
        long[] shiftsA = [.. partsA.Select(s => s + delta)];
        long[] shiftsB = [.. partsB.Select(o => leading - o + delta)];
        long extra = Math.Max(shiftsA.Max(), shiftsB.Max());
        var type = c.ElementType(dy);

        var dyCopies = Stack(Flat(dy, g.OutChannels), g.OutChannels, shiftsA);
        var xCopies = Stack(Flat(c.I(0), g.InChannels), g.InChannels, shiftsB);
        var product = c.Op("Gemm", [dyCopies, xCopies], Attribute.Of("transB", 1L)); // [M * A's parts, C * B's parts]
        var dw = shiftsA.Length == 1 ? product
            : c.Transpose(c.Reshape(product, g.OutChannels, shiftsA.Length, g.InChannels, shiftsB.Length), 0, 2, 1, 3);
        return c.Reshape(dw, [g.OutChannels, g.InChannels, .. g.Kernel]);

        // [channels, L] -> [channels * shifts, L + extra], row (ch, t) = the channel's flat row shifted right by shifts[t].
        // Copy t starts at t * (L + extra) + shifts[t]; the gaps between copies depend on extra and shifts only, not on L.
        Value Stack(Value flat, long channels, long[] shifts)
        {
            var pieces = new List<Value?>();
            var zeros = new Dictionary<long, Value>();
            void Zeros(long count)
            {
                if (count == 0) return;
                if (!zeros.TryGetValue(count, out var z))
                    zeros[count] = z = c.Constant(Tensor.FromReals(type, [channels, count], new double[channels * count]), "gap");
                pieces.Add(z);
            }
            for (int t = 0; t < shifts.Length; t++)
            {
                Zeros(t == 0 ? shifts[0] : extra + shifts[t] - shifts[t - 1]);
                pieces.Add(flat);
            }
            Zeros(extra - shifts[^1]);
            return c.Reshape(c.Op("Concat", pieces, Attribute.Of("axis", 1L)), channels * shifts.Length, -1);
        }
    }
}
