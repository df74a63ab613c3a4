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

        // Slice with step -1 rather than Gather over a reversed index: one node and no index
        // constant; its slowness (15.7 ms on an activation) does not matter on a kernel-sized tensor.
        long[] flipAxes = [.. Enumerable.Range(0, g.Rank).Where(a => g.Kernel[a] > 1).Select(a => (long)a + 2)];
        if (flipAxes.Length == 0) return swapped;
        return c.Slice(swapped, [.. flipAxes.Select(_ => -1L)], [.. flipAxes.Select(_ => long.MinValue)], flipAxes, [.. flipAxes.Select(_ => -1L)]);
    }

    // ---- dW ----

    private static Value WeightGradient(GradientContext c, ConvGeometry g, Value dy) =>
        g.IsPointwise ? PointwiseWeightGradient(c, g, dy)
        : g.InGroupChannels == 1 && g.Group > 1 && g.Rank == 2 ? DepthwiseWeightGradient(c, g, dy)
        : UnfoldWeightGradient(c, g, dy);

    /// <summary>
    /// 1x1 kernels: dW = sum_n dY[n] X[n]^T as one batched MatMul and a ReduceSum over the batch
    /// (5.1 ms vs PyTorch 9.4 at batch 16); the transposed operand folds into the MatMul at runtime.
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
        Value product = g.Group == 1
            ? c.MatMul(c.Reshape(dy, 0, mg, -1), c.Transpose(c.Reshape(x, 0, cg, -1), 0, 2, 1))
            : c.MatMul(c.Reshape(dy, 0, g.Group, mg, -1), c.Transpose(c.Reshape(x, 0, g.Group, cg, -1), 0, 1, 3, 2));
        return c.Reshape(c.ReduceSum(product, [0], keepDims: false), [g.OutChannels, cg, .. g.Kernel]);
    }

    /// <summary>
    /// General kernels: pad X, lay it out channels-innermost so the Gather copies whole channel rows,
    /// gather every window with one precomputed index into the unfolded matrix [N*L, k*C/g], and
    /// contract it with dY in one MatMul per group: the fastest general form in the feasibility notes
    /// (50 ms on 3x3 64->64 @56); the "dY as a big kernel" Conv was correct but slowest.
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

    private static void Unravel(long flat, long[] dims, long[] into)
    {
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            into[a] = flat % dims[a];
            flat /= dims[a];
        }
    }
}
