using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// Conv: X [N, C, D...], W [M, C/group, k...], optional B [M]; any rank, stride, dilation, pads,
/// auto_pad and group. Formulations were chosen by timing them on ONNX Runtime's CPU provider
/// (shared/notes/backward-formulations.md and benchmarks/Backward).
/// </summary>
internal sealed partial class ConvGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var dy = c.GO(0)!;
        var g = ConvGeometry.Of(c);
        var grads = new Value?[c.Node.Inputs.Count];
        if (c.NeedsGradient(0)) grads[0] = InputGradient(c, g, dy);
        if (c.NeedsGradient(1)) grads[1] = WeightGradient(c, g, dy);
        if (grads.Length > 2 && c.NeedsGradient(2))
            grads[2] = c.ReduceSum(dy, [0, .. Enumerable.Range(2, g.Rank).Select(a => (long)a)], keepDims: false);
        return grads;
    }

    // ---- dX ----

    private static Value InputGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var spatial = Enumerable.Range(0, g.Rank);
        bool strideOne = g.Strides.All(s => s == 1);
        if (strideOne && spatial.All(a => g.PadsBegin[a] <= g.Reach(a) && g.PadsEnd[a] <= g.Reach(a)))
        {
            // Stride 1: a Conv with the kernel flipped and in/out channels swapped is the full
            // correlation of dY; measured faster than ConvTranspose (24.5 vs 38.5 ms on 3x3 64->64 @56,
            // 2.9 vs 10.9 ms for 1x1), as ConvTranspose ends in a single-threaded col2im.
            return c.Op("Conv", [dy, FlippedTransposedKernel(c, g)],
                Attribute.Of("dilations", g.Dilations),
                Attribute.Of("group", g.Group),
                Attribute.Of("kernel_shape", g.Kernel),
                Attribute.Of("pads", [.. spatial.Select(a => g.Reach(a) - g.PadsBegin[a]), .. spatial.Select(a => g.Reach(a) - g.PadsEnd[a])]),
                Attribute.Of("strides", g.Strides));
        }

        // Strided: ConvTranspose scatters dY back over the padded input; its pads crop the padding
        // and output_padding appends the stride leftovers (never read forward, so zero gradient).
        return c.Op("ConvTranspose", [dy, c.I(1)],
            Attribute.Of("dilations", g.Dilations),
            Attribute.Of("group", g.Group),
            Attribute.Of("kernel_shape", g.Kernel),
            Attribute.Of("output_padding", [.. spatial.Select(a => g.Leftover(a, c.Node))]),
            Attribute.Of("pads", [.. g.PadsBegin, .. g.PadsEnd]),
            Attribute.Of("strides", g.Strides));
    }

    /// <summary>W [M, C/g, k...] as [C, M/g, k...] with every spatial axis reversed.</summary>
    private static Value FlippedTransposedKernel(GradientContext c, ConvGeometry g)
    {
        var w = c.I(1);
        long cg = g.InGroupChannels, mg = g.OutGroupChannels;
        long[] target = [g.InChannels, mg, .. g.Kernel];

        // A frozen weight is flipped once at build time: the backward Conv then sees a constant
        // kernel that ONNX Runtime pre-packs (weights fed as values run 1.5-2x slower).
        if (w.Initializer is { ElementType: DataType.Float } data)
        {
            var src = data.ToFloats();
            long kk = Tensor.ElementCount(g.Kernel);
            var dst = new float[src.Length];
            for (long gi = 0; gi < g.Group; gi++)
                for (long mi = 0; mi < mg; mi++)
                    for (long ci = 0; ci < cg; ci++)
                    {
                        long from = (((gi * mg) + mi) * cg + ci) * kk;
                        long to = (((gi * cg) + ci) * mg + mi) * kk;
                        // Reversing every spatial axis of a row-major block reverses its flat order.
                        for (long k = 0; k < kk; k++) dst[to + kk - 1 - k] = src[from + k];
                    }
            return c.Constant(Tensor.FromFloats(target, dst), "flipped_kernel");
        }

        Value swapped;
        if (cg == 1 || mg == 1) swapped = c.Reshape(w, target); // the swap only moves a size-1 axis
        else if (g.Group == 1) swapped = c.Transpose(w, [1, 0, .. Enumerable.Range(2, g.Rank).Select(a => (long)a)]);
        else
        {
            var split = c.Reshape(w, [g.Group, mg, cg, .. g.Kernel]);
            swapped = c.Reshape(c.Transpose(split, [0, 2, 1, .. Enumerable.Range(3, g.Rank).Select(a => (long)a)]), target);
        }

        // Reversing the kernel taps is a MatMul of [C*M/g, k] rows by the k x k anti-identity: exact (each output is
        // one weight times 1 plus zeros) and ~2x faster than a Slice with step -1, which took 4.4-5.6 ms per 512x512x3x3
        // weight in ResNet-18's full step (ORT's negative-step Slice copies element by element).
        long taps = Tensor.ElementCount(g.Kernel);
        if (taps == 1) return swapped;
        var antiIdentity = new float[taps * taps];
        for (long i = 0; i < taps; i++) antiIdentity[i * taps + taps - 1 - i] = 1;
        Value reverse = c.Constant(Tensor.FromFloats([taps, taps], antiIdentity), "anti_identity");
        if (c.ElementType(w) != DataType.Float) reverse = c.Cast(reverse, c.ElementType(w));
        return c.Reshape(c.MatMul(c.Reshape(swapped, -1, taps), reverse), target);
    }

    // ---- dW ----

    private static Value WeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        if (g.IsPointwise) return PointwiseWeightGradient(c, g, dy);
        if (g.InGroupChannels == 1 && g.Group > 1 && g.Rank == 2) return DepthwiseWeightGradient(c, g, dy);
        if (g.Group > 1) return UnfoldWeightGradient(c, g, dy);
        if (c.Formulations.ShiftedCopies && ShiftedCopiesGaps(g, c.Node) is { } gaps) return ShiftedCopiesWeightGradient(c, g, dy, gaps);
        if (g.InChannels < PerTapMinimumChannels) return CorrelationWeightGradient(c, g, dy);
        return IsSmallPlane(g, c.Node) ? SmallPlaneWeightGradient(c, g, dy) : PerTapWeightGradient(c, g, dy);
    }

    /// <summary>
    /// Below this many input channels a per-tap Gemm is too thin and re-reads dY once per tap (ResNet-18's 7x7 stem over
    /// 3 channels, 49 taps: 193 ms per tap vs 42 ms unfolded, 34 ms as one correlation Conv).
    /// </summary>
    private const long PerTapMinimumChannels = 16;

    /// <summary>The flat-shift windows pay for the padded grid's extra positions in the Gemm; worth it while they are few.</summary>
    private const double FlatShiftMaximumGrowth = 1.15;

    /// <summary>
    /// Ungrouped kernels over many channels: one Gemm per kernel tap, dW[:, :, tap] = dY [M, N*L] x window(X, tap)^T,
    /// with both operands laid out channels-first ([C, N, spatial...], a Transpose that keeps the innermost axis) so
    /// each window is a Slice and the Gemm contracts over the long N*L axis. Measured on ResNet-18's 3x3 layers at
    /// batch 16 (benchmarks/Backward, ms; unfold form -> this; PyTorch): 64@56 34.4 -> 18.8 (16.7), s2 64->128@56
    /// 23.9 -> 11.4 (5.3), 128@28 22.5 -> 13.9 (9.0), 256@14 14.6 -> 10.9 (8.6), 512@7 13.8 -> 11.2 (9.3); one Gemm over
    /// the concatenated windows was slower (27.0 ms at 64@56).
    /// </summary>
    private static Value PerTapWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        int r = g.Rank;
        var x = c.I(0);
        if (g.HasPads) x = c.Pad(x, [0, 0, .. g.PadsBegin], [0, 0, .. g.PadsEnd]);
        long[] channelsFirst = ChannelsFirst(r);
        var xt = c.Transpose(x, channelsFirst); // [C, N, padded...]
        var dyt = c.Transpose(dy, channelsFirst); // [M, N, out...]
        long[] padded = [.. Enumerable.Range(0, r).Select(a => g.PaddedSize(a, node))];
        long[] outSize = [.. Enumerable.Range(0, r).Select(a => g.Out(a, node))];
        long[] axes = [.. Enumerable.Range(2, r).Select(a => (long)a)];
        var taps = new List<long[]>();
        for (long t = 0; t < Tensor.ElementCount(g.Kernel); t++)
        {
            var k = new long[r];
            Unravel(t, g.Kernel, k);
            taps.Add(k);
        }

        // A tap reads the padded input at o*s + k*d: on the phase (k*d mod s) of the stride pattern, which is its own
        // grid of ceil((padded - phase) / s) positions per axis, it reads o + k*d div s, a constant shift.
        long[] Phase(long[] tap) => [.. Enumerable.Range(0, r).Select(a => tap[a] * g.Dilations[a] % g.Strides[a])];
        long[] Shift(long[] tap) => [.. Enumerable.Range(0, r).Select(a => tap[a] * g.Dilations[a] / g.Strides[a])];
        long[] Grid(long[] phase) => [.. Enumerable.Range(0, r).Select(a => (padded[a] - phase[a] + g.Strides[a] - 1) / g.Strides[a])];
        double growth = taps.Max(tap => (double)Tensor.ElementCount(Grid(Phase(tap)))) / Tensor.ElementCount(outSize);

        var operands = new List<(Value Rows, Value Window)>();
        if (growth <= FlatShiftMaximumGrowth)
        {
            // Flat shifts: on a phase grid flattened to [C, N*P], a tap's window is one contiguous Slice of long rows at
            // a constant offset (the 2-D windows copy rows of only W floats: 10 of 30 ms at 64@56, and strided ones 10 of
            // 19 ms at s2 64->128@56, where the phases are cut out once instead). dY is embedded in the grid (zeros past
            // its end on every axis); positions the largest offset cannot reach are exactly such trailing zeros, so all
            // taps on a grid use its first N*P - maxOffset columns.
            var phases = new Dictionary<string, Value>();
            var grids = new Dictionary<string, (Value Rows, long MaxOffset, long[] RowStride)>();
            foreach (var group in taps.GroupBy(tap => string.Join(",", Grid(Phase(tap)))))
            {
                var grid = Grid(Phase(group.First()));
                var rowStride = RowStrides(grid);
                long maxOffset = group.Max(tap => Offset(Shift(tap), rowStride));
                var embedded = c.Pad(dyt, new long[r + 2], [0, 0, .. Enumerable.Range(0, r).Select(a => grid[a] - outSize[a])]);
                grids[group.Key] = (Columns(c.Reshape(embedded, g.OutChannels, -1), 0, maxOffset), maxOffset, rowStride);
            }
            foreach (var tap in taps)
            {
                var phase = Phase(tap);
                string phaseKey = string.Join(",", phase);
                if (!phases.TryGetValue(phaseKey, out var flat))
                {
                    var cut = g.Strides.All(s => s == 1) ? xt : c.Slice(xt, phase, [.. phase.Select(_ => long.MaxValue)], axes, g.Strides);
                    phases[phaseKey] = flat = c.Reshape(cut, g.InChannels, -1);
                }
                var (rows, maxOffset, rowStride) = grids[string.Join(",", Grid(phase))];
                operands.Add((rows, Columns(flat, Offset(Shift(tap), rowStride), maxOffset)));
            }
        }
        else
        {
            var rows = c.Reshape(dyt, g.OutChannels, -1); // [M, N*L]
            foreach (var tap in taps)
            {
                long[] starts = [.. Enumerable.Range(0, r).Select(a => tap[a] * g.Dilations[a])];
                long[] ends = [.. Enumerable.Range(0, r).Select(a => starts[a] + (outSize[a] - 1) * g.Strides[a] + 1)];
                operands.Add((rows, c.Reshape(c.Slice(xt, starts, ends, axes, g.Strides), g.InChannels, -1))); // [C, N*L]
            }
        }

        var perTap = operands.Select(o => c.Unsqueeze(c.Op("Gemm", [o.Rows, o.Window], Attribute.Of("transB", 1L)), 2)).ToList(); // [M, C, 1] each
        var dw = perTap.Count == 1 ? perTap[0] : c.Op("Concat", perTap, Attribute.Of("axis", 2L));
        return c.Reshape(dw, [g.OutChannels, g.InChannels, .. g.Kernel]);

        long Offset(long[] shift, long[] rowStride) => Enumerable.Range(0, r).Sum(a => shift[a] * rowStride[a]);

        // Columns [offset, N*P - maxOffset + offset) of a [rows, N*P] matrix; the Slice end counts back from the row's end.
        Value Columns(Value matrix, long offset, long maxOffset) =>
            c.Slice(matrix, [offset], [offset == maxOffset ? long.MaxValue : offset - maxOffset], [1]);
    }

    /// <summary>
    /// 1x1 kernels: dW = sum_n dY[n] X[n]^T as one batched MatMul and a ReduceSum over the batch
    /// (5.1 ms vs PyTorch 9.4 at batch 16); the transposed operand folds into the MatMul at runtime.
    /// Where the per-image products outweigh the inputs (many channels over few positions), one Gemm over
    /// channel-major dY and X instead: 1280x320 @7 6.0 -> 1.7 ms, 160x960 @7 1.4 -> 0.7; the same at 14 px, slower at 28.
    /// </summary>
    private static Value PointwiseWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var x = c.I(0);
        if (g.Strides.Any(s => s != 1))
        {
            long[] axes = [.. Enumerable.Range(2, g.Rank).Select(a => (long)a)];
            x = c.Slice(x, [.. axes.Select(_ => 0L)], [.. axes.Select(_ => long.MaxValue)], axes, g.Strides);
        }
        long cg = g.InGroupChannels, mg = g.OutGroupChannels;
        if (g.Group == 1 && g.OutSize.All(o => o is not null)
            && mg * cg > g.OutSize.Aggregate(1L, (n, o) => n * o!.Value) * (mg + cg))
        {
            Value ChannelMajor(Value v, long channels) => c.Reshape(c.Transpose(c.Reshape(v, 0, channels, -1), 1, 0, 2), channels, -1);
            var dw = c.Op("Gemm", [ChannelMajor(dy, mg), ChannelMajor(x, cg)], Attribute.Of("transB", 1L));
            return c.Reshape(dw, [g.OutChannels, cg, .. g.Kernel]);
        }
        Value product = g.Group == 1
            ? c.MatMul(c.Reshape(dy, 0, mg, -1), c.Transpose(c.Reshape(x, 0, cg, -1), 0, 2, 1))
            : c.MatMul(c.Reshape(dy, 0, g.Group, mg, -1), c.Transpose(c.Reshape(x, 0, g.Group, cg, -1), 0, 1, 3, 2));
        return c.Reshape(c.ReduceSum(product, [0], keepDims: false), [g.OutChannels, cg, .. g.Kernel]);
    }

    /// <summary>
    /// Ungrouped kernels over few channels that the shifted copies do not serve (the strided stems over RGB):
    /// dW[m, c, k] = sum_n,o dY[n, m, o] X[n, c, o*s + k*d] is a Conv of X as C images of N channels ([C, N, in...])
    /// with dY as M kernels ([M, N, out...]), strides and dilations swapped, the forward's pads minus the stride leftovers
    /// so that the output is exactly the kernel's size. ORT's im2col for it copies X once per tap as the unfold does, but
    /// with a tight loop instead of a Gather over an index
    /// (benchmarks/Backward, ms: ResNet-18 7x7 s2 3->64 @224 52.6-61.4 -> 33.8-34.4, PyTorch 24.8; MobileNetV2 3x3 s2
    /// 3->32 @224 22.1 -> 11.6). Over many channels its Gemm is thin (k^2 columns) and the per-tap form wins.
    /// </summary>
    private static Value CorrelationWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        int r = g.Rank;
        var x = c.I(0);
        long[] spatialAxes = [.. Enumerable.Range(2, r).Select(a => (long)a)];
        long[] leftover = [.. Enumerable.Range(0, r).Select(a => g.Leftover(a, node))];
        long[] cut = [.. Enumerable.Range(0, r).Select(a => Math.Max(0, leftover[a] - g.PadsEnd[a]))];
        if (cut.Any(v => v > 0)) // stride leftovers beyond the end padding: never read, so cut off
            x = c.Slice(x, [.. Enumerable.Repeat(0L, r)], [.. Enumerable.Range(0, r).Select(a => g.In(a, node) - cut[a])], spatialAxes);
        long[] channelsFirst = ChannelsFirst(r);
        var xt = c.Transpose(x, channelsFirst); // [C, N, in...]
        var dyt = c.Transpose(dy, channelsFirst); // [M, N, out...]
        long[] pads = [.. g.PadsBegin, .. Enumerable.Range(0, r).Select(a => Math.Max(0, g.PadsEnd[a] - leftover[a]))];
        var dwt = c.Op("Conv", [xt, dyt], Attribute.Of("strides", g.Dilations), Attribute.Of("dilations", g.Strides),
            Attribute.Of("pads", pads)); // [C, M, k...]
        return c.Transpose(dwt, channelsFirst);
    }

    /// <summary>
    /// Grouped kernels (other than 2-D depthwise): pad X, lay it out channels-innermost so the Gather copies whole channel rows,
    /// gather every window with one precomputed index into the unfolded matrix [N*L, k*C/g], and
    /// contract it with dY in one MatMul per group: the fastest general form in the feasibility notes
    /// (50 ms on 3x3 64->64 @56, where the correlation Conv was slowest).
    /// </summary>
    private static Value UnfoldWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        int r = g.Rank;
        var x = c.I(0);
        if (g.HasPads) x = c.Pad(x, [0, 0, .. g.PadsBegin], [0, 0, .. g.PadsEnd]);

        long[] padded = [.. Enumerable.Range(0, r).Select(a => g.PaddedSize(a, node))];
        long[] outSize = [.. Enumerable.Range(0, r).Select(a => g.Out(a, node))];
        long positions = Tensor.ElementCount(padded), windows = Tensor.ElementCount(outSize), taps = Tensor.ElementCount(g.Kernel);
        var index = c.Constant(Tensor.FromInt64s([windows, taps], WindowIndex(g, padded, outSize)), "window_index");

        long cg = g.InGroupChannels, mg = g.OutGroupChannels, groups = g.Group;
        // [N, C, P] -> [g, N, P, C/g]: channels innermost, groups outermost for the batched MatMul.
        var channelsLast = c.Transpose(c.Reshape(x, 0, groups, cg, positions), 1, 0, 3, 2);
        var unfolded = c.Reshape(c.Op("Gather", [channelsLast, index], Attribute.Of("axis", 2L)), groups, -1, taps * cg);
        // dY [N, M, L] -> [g, M/g, N*L].
        var dyT = c.Reshape(c.Transpose(c.Reshape(dy, 0, groups, mg, windows), 1, 2, 0, 3), groups, mg, -1);
        var dw = c.MatMul(dyT, unfolded); // [g, M/g, k..., C/g]
        var kernelLast = c.Reshape(dw, [groups, mg, .. g.Kernel, cg]);
        var channelsFirst = cg == 1 ? kernelLast
            : c.Transpose(kernelLast, [0, 1, r + 2, .. Enumerable.Range(2, r).Select(a => (long)a)]);
        return c.Reshape(channelsFirst, [g.OutChannels, cg, .. g.Kernel]);
    }

    /// <summary>Flat padded-input position read by each (output position, kernel tap), row-major over both.</summary>
    private static long[] WindowIndex(ConvGeometry g, long[] padded, long[] outSize)
    {
        int r = g.Rank;
        long windows = Tensor.ElementCount(outSize), taps = Tensor.ElementCount(g.Kernel);
        var index = new long[windows * taps];
        var o = new long[r];
        var k = new long[r];
        for (long w = 0; w < windows; w++)
        {
            Unravel(w, outSize, o);
            for (long t = 0; t < taps; t++)
            {
                Unravel(t, g.Kernel, k);
                long flat = 0;
                for (int a = 0; a < r; a++) flat = flat * padded[a] + o[a] * g.Strides[a] + k[a] * g.Dilations[a];
                index[w * taps + t] = flat;
            }
        }
        return index;
    }

    /// <summary>The permutation [1, 0, 2, 3...] that swaps the batch and channel axes of an [N, C, spatial...] tensor.</summary>
    private static long[] ChannelsFirst(int rank) => [1, 0, .. Enumerable.Range(2, rank).Select(a => (long)a)];

    /// <summary>Row-major strides of a grid: how far one step along each axis moves in its flattened form.</summary>
    private static long[] RowStrides(long[] grid)
    {
        var strides = new long[grid.Length];
        for (long stride = 1, a = grid.Length - 1; a >= 0; stride *= grid[a], a--) strides[a] = stride;
        return strides;
    }

    private static void Unravel(long flat, long[] dims, long[] into)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            into[a] = flat % dims[a];
            flat /= dims[a];
        }
    }
}
