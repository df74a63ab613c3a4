using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

internal sealed partial class ConvGradient
{
    /// <summary>
    /// Depthwise (and channel-multiplier) 2-D kernels, dW[c, i, j] = sum over n, oh, ow of
    /// dY[n, c, oh, ow] * X[n, c, oh*s + i*d - padTop, ow*s + j*d - padLeft]. One channel's dW is a tiny output over a huge
    /// reduction, which the unfold formulation turns into a k^2-times copy of X. Instead every row is cut into column
    /// blocks (B outputs, s*B inputs) and, per kernel row i, one batched MatMul per channel contracts (batch, output row,
    /// block) and gives every (output column, input column) pair inside a block, [C, B, s*B]; tap j is one of its
    /// diagonals. The few pairs that cross a block boundary come from the boundary columns (picked out by constant one-hot
    /// MatMuls) in one small MatMul per kernel row; one constant MatMul sums the diagonals. It spends B/k times
    /// the useful FLOPs (s*B at most one MLAS column panel of 16, or the whole row up to two) where pairing whole rows
    /// spent W/k (19x at 56 px).
    /// Measured (benchmarks/Backward, batch 16, ms; whole-row pairs -> blocks; PyTorch): 32@112 27.4 -> 15.5 (3.9),
    /// 144@56 28.4 -> 18.0 (5.3), s2 96@112 36.4 -> 22.2 (24.9), s2 144@56 13.9 -> 8.8 (2.0), 576@14 6.1 -> 4.5.
    /// </summary>
    private static Value DepthwiseWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        if (DepthwiseBlocks.Of(g, node) is not { } blocks) return UnfoldWeightGradient(c, g, dy);

        long channels = g.InChannels, mult = g.OutGroupChannels;
        long oh = g.Out(0, node), ow = g.Out(1, node), h = g.In(0, node), w = g.In(1, node);
        long kh = g.Kernel[0], kw = g.Kernel[1];
        long b = blocks.Width, inputWidth = blocks.InputWidth, count = blocks.Count;
        long rowStride = g.Strides[0], rowDilation = g.Dilations[0], top = g.PadsBegin[0];
        var type = c.ElementType(dy);

        // [N, C*mult, OH, groups*width] -> [C, mult*width, (N, OH, group)]: per channel, transposed for the MatMuls (ORT folds
        // that Transpose into them); with one multiplier the channel-major Transpose moves whole images.
        Value PerChannelT(Value t, long groups, long width)
        {
            var channelMajor = mult == 1 ? c.Transpose(c.Reshape(t, 0, channels, -1), 1, 0, 2)
                : c.Transpose(c.Reshape(t, 0, channels, mult, oh, groups, width), 1, 0, 3, 4, 2, 5);
            return c.Transpose(c.Reshape(channelMajor, channels, -1, mult * width), 0, 2, 1);
        }

        // dY with zero columns up to whole blocks.
        if (count * b > ow) dy = c.Pad(dy, [0, 0, 0, 0], [0, 0, 0, count * b - ow]);
        var dyBlocksT = PerChannelT(dy, count, b);
        var xt = c.Transpose(c.I(0), 1, 0, 2, 3); // [C, N, H, W]

        // The input rows kernel row i reads, [C, N, OH, count*sB] (columns zero-padded to whole blocks): one strided Slice
        // per row phase, shared by the kernel rows of that phase, then a Pad with the padding rows (negative pads crop).
        // Slicing before padding copies X about 1.5 times less at stride 2. Without column padding the rows are padded
        // as one flat run per image: ORT pads short rows one by one (960@7: 0.8 -> 0.2 ms).
        var phases = new Dictionary<long, Value>();
        long columnEnd = count * inputWidth - w;
        Value InputRows(long i)
        {
            long first = i * rowDilation - top, phase = ((first % rowStride) + rowStride) % rowStride;
            if (!phases.TryGetValue(phase, out var rows))
                phases[phase] = rows = rowStride == 1 ? xt : c.Slice(xt, [phase], [h], [2], [rowStride]);
            long begin = (phase - first) / rowStride, end = oh - begin - DimMath.CeilDiv(h - phase, rowStride);
            if (begin == 0 && end == 0 && columnEnd == 0) return rows;
            if (columnEnd != 0) return c.Pad(rows, [0, 0, begin, 0], [0, 0, end, columnEnd]);
            return c.Reshape(c.Pad(c.Reshape(rows, 0, 0, -1), [0, 0, begin * w], [0, 0, end * w]), 0, 0, oh, w);
        }

        // Boundary columns around each inner boundary, picked by constant one-hot MatMuls: dY's [C, (N, OH, boundary),
        // (mult, du)] once, X's [C, (N, OH, boundary), dv] from each kernel row's input rows.
        long boundaries = count - 1, nu = blocks.DyOffsets.Length, nv = blocks.XOffsets.Length;
        Value? dyEdgesT = null, pickX = null;
        if (blocks.Crossing.Length > 0)
        {
            var pickDy = c.Constant(OneHotColumns(type, count * b, boundaries, blocks.DyOffsets, (bd, du) => bd * b + du), "one_hot");
            dyEdgesT = PerChannelT(c.MatMul(dy, pickDy), boundaries, nu);
            pickX = c.Constant(OneHotColumns(type, count * inputWidth, boundaries, blocks.XOffsets, (bd, dv) => bd * inputWidth + dv), "one_hot");
        }

        var rows = new List<Value>();
        for (long i = 0; i < kh; i++)
        {
            var input = InputRows(i);
            var inside = c.MatMul(dyBlocksT, c.Reshape(input, channels, -1, inputWidth)); // [C, mult*B, sB]
            var pairs = c.Reshape(inside, channels, 1, mult * b * inputWidth);
            if (pickX is not null)
            {
                var across = c.MatMul(dyEdgesT!, c.Reshape(c.MatMul(input, pickX), channels, -1, nv)); // [C, mult*nu, nv]
                pairs = c.Op("Concat", [pairs, c.Reshape(across, channels, 1, mult * nu * nv)], Attribute.Of("axis", 2L));
            }
            rows.Add(pairs);
        }
        var all = rows.Count == 1 ? rows[0] : c.Op("Concat", rows, Attribute.Of("axis", 1L)); // [C, kh, pairs]

        var dw = c.MatMul(all, c.Constant(blocks.TapSelection(type, mult, kw), "tap_selection")); // [C, kh, mult*kw]
        if (mult > 1) dw = c.Transpose(c.Reshape(dw, channels, kh, mult, kw), 0, 2, 1, 3);
        return c.Reshape(dw, g.OutChannels, 1, kh, kw);
    }

    /// <summary>[width, boundaries*offsets] one-hot: column (bd-1, o) picks row position(bd, offset o) when inside [0, width).</summary>
    private static Tensor OneHotColumns(DataType type, long width, long boundaries, long[] offsets, Func<long, long, long> position)
    {
        long columns = boundaries * offsets.Length;
        var data = new double[width * columns];
        for (long bd = 1; bd <= boundaries; bd++)
            for (int o = 0; o < offsets.Length; o++)
                if (position(bd, offsets[o]) is var p && p >= 0 && p < width)
                    data[p * columns + (bd - 1) * offsets.Length + o] = 1;
        return Tensor.FromReals(type, [width, columns], data);
    }

    /// <summary>
    /// Column blocking for <see cref="DepthwiseWeightGradient"/>: Count blocks of Width output columns (dY zero-padded to
    /// whole blocks, one more block when X has read columns past them) over InputWidth = stride*Width input columns.
    /// Tap j of output column u of a block reads input column v = u*s + j*d - padLeft of the same block, or, where v falls
    /// outside [0, InputWidth), of a neighbour block: those pairs are listed relative to the boundary between the two
    /// blocks (dY column boundary*Width + du, X column boundary*InputWidth + dv).
    /// </summary>
    private sealed record DepthwiseBlocks(long Width, long InputWidth, long Count, (long Du, long Dv, long Tap)[] Crossing,
        long[] DyOffsets, long[] XOffsets, long Stride, long Dilation, long PadLeft)
    {
        /// <summary>One MLAS SGEMM column panel: blocks up to this wide cost the same per MatMul row.</summary>
        private const long Panel = 16;

        /// <summary>
        /// Blocks of at most one panel of input columns; a row of at most two panels stays whole, as its pairs across a
        /// boundary would cost more than the second panel's unused columns (192@28, alternating runs on a busy machine:
        /// 7.6-9.1 -> 6.2-7.7 ms).
        /// </summary>
        public static DepthwiseBlocks? Of(ConvGeometry g, Node node)
        {
            long columns = g.Out(1, node) * g.Strides[1];
            long blocks = columns <= 2 * Panel ? 1 : DimMath.CeilDiv(columns, Panel);
            return Try(g, node, blocks) ?? (blocks > 1 ? Try(g, node, 1) : null);
        }

        private static DepthwiseBlocks? Try(ConvGeometry g, Node node, long blocks)
        {
            long ow = g.Out(1, node), w = g.In(1, node), s = g.Strides[1], d = g.Dilations[1], left = g.PadsBegin[1];
            long width = DimMath.CeilDiv(ow, blocks), inputWidth = s * width;
            long lastRead = Math.Min(w - 1, (ow - 1) * s + g.Reach(1) - left);
            long count = Math.Max(DimMath.CeilDiv(ow, width), DimMath.CeilDiv(lastRead + 1, inputWidth));

            var crossing = new List<(long Du, long Dv, long Tap)>();
            for (long u = 0; u < width && count > 1; u++) // one block has no inner boundary: pairs outside it read padding
                for (long j = 0; j < g.Kernel[1]; j++)
                {
                    long v = u * s + j * d - left;
                    if (v < -inputWidth || v >= 2 * inputWidth) return null; // would reach past the neighbour block
                    if (v < 0) crossing.Add((u, v, j));
                    else if (v >= inputWidth) crossing.Add((u - width, v - inputWidth, j));
                }
            return new DepthwiseBlocks(width, inputWidth, count, [.. crossing],
                [.. crossing.Select(p => p.Du).Distinct().Order()], [.. crossing.Select(p => p.Dv).Distinct().Order()], s, d, left);
        }

        /// <summary>[(inside pairs, crossing pairs), mult*k] 0/1: which pair products sum into each (multiplier, tap).</summary>
        public Tensor TapSelection(DataType type, long mult, long taps)
        {
            long inside = mult * Width * InputWidth, nu = DyOffsets.Length, nv = XOffsets.Length;
            long rows = inside + (Crossing.Length > 0 ? mult * nu * nv : 0), columns = mult * taps;
            var data = new double[rows * columns];
            for (long m = 0; m < mult; m++)
            {
                for (long u = 0; u < Width; u++)
                    for (long j = 0; j < taps; j++)
                        if (u * Stride + j * Dilation - PadLeft is var v && v >= 0 && v < InputWidth)
                            data[((m * Width + u) * InputWidth + v) * columns + m * taps + j] = 1;
                foreach (var (du, dv, j) in Crossing)
                {
                    long row = inside + (m * nu + Array.IndexOf(DyOffsets, du)) * nv + Array.IndexOf(XOffsets, dv);
                    data[row * columns + m * taps + j] = 1;
                }
            }
            return Tensor.FromReals(type, [rows, columns], data);
        }
    }
}
