using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

internal sealed partial class ConvGradient
{
    /// <summary>
    /// Depthwise (and channel-multiplier) 2-D kernels, dW[c, kh, kw] = sum over n, oh, ow of
    /// dY[n, c, oh, ow] * Xpad[n, c, oh*s + kh*d, ow*s + kw*d]. One channel's dW is a tiny output over
    /// a huge reduction, which the unfold formulation turns into a k^2-times copy of X and Gathers of
    /// single elements. Instead, per kernel row kh, one batched MatMul per channel contracts the
    /// (batch, output row) axes of dY with the matching input rows, giving every (ow, w) column pair
    /// [C, OW, Wp]; dW is the sum along the k diagonals w = ow*s + kw*d, read by one small Gather.
    /// It spends Wp/k times the useful FLOPs, but in a GEMM, and reads X and dY about once each:
    /// at 144 channels @56, batch 16, ~38 ms (sum of per-node minima; unfold+Gather took ~250 ms).
    /// Stacking the k row-shifted copies of dY into one MatMul (M = k*OW) was no faster (~42 ms).
    /// </summary>
    private static Value DepthwiseWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        long channels = g.InChannels, mult = g.OutGroupChannels;
        long oh = g.Out(0, node), ow = g.Out(1, node), wp = g.PaddedSize(1, node);
        long kh = g.Kernel[0], kw = g.Kernel[1];

        var x = c.I(0);
        if (g.HasPads) x = c.Pad(x, [0, 0, .. g.PadsBegin], [0, 0, .. g.PadsEnd]);
        var xt = c.Transpose(x, 1, 0, 2, 3); // [C, N, Hp, Wp]: channel-major so (n, row) is one reduction axis

        // dY [N, C*mult, OH, OW] -> [C, mult*OW, N*OH].
        var dyT = c.Transpose(c.Reshape(c.Transpose(c.Reshape(dy, 0, channels, mult, oh, ow), 1, 0, 3, 2, 4), channels, -1, mult * ow), 0, 2, 1);

        var rows = new List<Value>();
        for (long i = 0; i < kh; i++)
        {
            long start = i * g.Dilations[0];
            var taps = c.Slice(xt, [start], [start + (oh - 1) * g.Strides[0] + 1], [2], [g.Strides[0]]);
            var pairs = c.MatMul(dyT, c.Reshape(taps, channels, -1, wp)); // [C, mult*OW, Wp]
            rows.Add(c.Reshape(pairs, channels, 1, mult * ow * wp));
        }
        var all = rows.Count == 1 ? rows[0] : c.Op("Concat", rows, Attribute.Of("axis", 1L)); // [C, kh, mult*OW*Wp]

        // Diagonal taps: (m, kw, ow) reads column pair (m*OW + ow, ow*s + kw*d).
        var index = new long[mult * kw * ow];
        for (long m = 0; m < mult; m++)
            for (long j = 0; j < kw; j++)
                for (long o = 0; o < ow; o++)
                    index[(m * kw + j) * ow + o] = (m * ow + o) * wp + o * g.Strides[1] + j * g.Dilations[1];
        var diagonals = c.Op("Gather", [all, c.Constant(Tensor.FromInt64s([mult, kw, ow], index), "diagonal_index")], Attribute.Of("axis", 2L));
        var dw = c.ReduceSum(diagonals, [4], keepDims: false); // [C, kh, mult, kw]
        if (mult > 1) dw = c.Transpose(dw, 0, 2, 1, 3);
        return c.Reshape(dw, g.OutChannels, 1, kh, kw);
    }
}
