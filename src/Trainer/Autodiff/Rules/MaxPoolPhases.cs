using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// MaxPool's gradient for 2-D windows at stride 1 or 2 (ResNet's, DenseNet's, ShuffleNet's and SqueezeNet's pools, VGG's
/// 2x2, Inception's 3x3 at stride 1) from the forward's pooled values alone, without MaxPool's Indices. At stride 2
/// SpaceToDepth cuts X into its four stride phases X[a::2, b::2] (at stride 1 X is its own phase); window tap (kh, kw)
/// reads phase ((kh - pad) mod s, (kw - pad) mod s) shifted by floor((kh - pad) / s) rows and floor((kw - pad) / s)
/// columns, padded with -inf where that runs past the input. Walking the taps in row-major order, each takes the
/// gradient still left where it equals the window's maximum, so only the first maximum gets it (ONNX Runtime's and
/// PyTorch's choice on ties); the taps' shares, shifted back, are summed per phase, and at stride 2 go into place with
/// one ConvTranspose (a one-hot 2x2 kernel at stride 2) over the channels folded into the batch. An input dim that the
/// stride does not divide is first padded by one -inf row or column, which no window picks, and cropped off the gradient.
/// <para>
/// Why: ONNX Runtime computes MaxPool's Indices in a scalar loop while MLAS pools without them. At ResNet's stem
/// ([8,64,112,112], one thread; ortbench) MaxPool with Indices and ScatterElements took 42 ms, this 31; 2x2 at stride 2
/// 30 against 20; at [8,256,14,14] both 2.4-2.5. DepthToSpace instead of the ConvTranspose cost 14.6 ms against 4.7.
/// 3x3 at stride 1 with pads 1: [8,64,56,56] 33 -> 21 ms, [8,192,28,28] 25 -> 17, [8,480,14,14] 15.4 -> 14.5.
/// </para>
/// </summary>
internal static class MaxPoolPhases
{
    /// <summary>Float 2-D windows at stride 1 or 2 (the same on both axes) without dilation.</summary>
    public static bool Applies(GradientContext c, PoolGeometry g) =>
        c.Opset >= 13 && g.Kernel.Length == 2 && g.Stride[0] == g.Stride[1] && g.Stride[0] is 1 or 2
        && g.Dilation.All(d => d == 1) && c.ElementType(c.I(0)) == DataType.Float;

    public static Value Build(GradientContext c, PoolGeometry g)
    {
        var x = c.I(0);
        var pooled = c.O(0);
        var minusInfinity = c.ScalarLike(double.NegativeInfinity, x);
        long stride = g.Stride[0];
        long[] added = [(stride - g.Input[0] % stride) % stride, (stride - g.Input[1] % stride) % stride]; // -inf rows/columns: the stride divides X
        long[] phaseSize = [(g.Input[0] + stride - 1) / stride, (g.Input[1] + stride - 1) / stride];
        var padded = Shift(c, x, [0, 0], added, minusInfinity);
        var phases = stride == 1 ? [padded] : StridePhases(c, padded);

        var shares = phases.Select(_ => new List<Value>()).ToArray();
        var left = c.GO(0)!;
        long taps = g.Kernel[0] * g.Kernel[1];
        for (long tap = 0; tap < taps; tap++)
        {
            var (rowPhase, rowShift) = PhaseOf(tap / g.Kernel[1] - g.PadBegin[0], stride);
            var (columnPhase, columnShift) = PhaseOf(tap % g.Kernel[1] - g.PadBegin[1], stride);
            int phase = (int)(stride * rowPhase + columnPhase);
            // Output position i reads phase position i + shift: -shift at the front, and the end trimmed or filled to the output's size.
            var tapValues = Shift(c, phases[phase], [-rowShift, -columnShift],
                [g.Output[0] - phaseSize[0] + rowShift, g.Output[1] - phaseSize[1] + columnShift], minusInfinity);
            Value share;
            if (tap == taps - 1) share = left;
            else
            {
                share = c.Mul(left, ActivationMask.ZeroAt(c, c.Sub(pooled, tapValues)));
                left = c.Sub(left, share);
            }
            shares[phase].Add(Shift(c, share, [rowShift, columnShift],
                [phaseSize[0] - g.Output[0] - rowShift, phaseSize[1] - g.Output[1] - columnShift]));
        }

        var sums = shares.Select((s, p) => s.Count > 0 ? c.Sum(s) : c.Zeros(c.Shape(phases[p]), DataType.Float)).ToList();
        var placed = stride == 1 ? sums[0] : PlaceStridePhases(c, sums, phaseSize, c.Shape(padded));
        return Shift(c, placed, [0, 0], [-added[0], -added[1]]);
    }

    /// <summary>X[a::2, b::2] for (a, b) = (0, 0), (0, 1), (1, 0), (1, 1).</summary>
    private static Value[] StridePhases(GradientContext c, Value x)
    {
        Attribute[] fourWays = c.Opset >= 18 ? [Attribute.Of("axis", 1L), Attribute.Of("num_outputs", 4L)] : [Attribute.Of("axis", 1L)];
        return [.. c.OpN("Split", [c.Op("SpaceToDepth", [x], Attribute.Of("blocksize", 2L))], 4, fourWays)];
    }

    /// <summary>The inverse of <see cref="StridePhases"/>: phase (a, b) back at rows a::2 and columns b::2.</summary>
    private static Value PlaceStridePhases(GradientContext c, IReadOnlyList<Value> phases, long[] phaseSize, Value shape)
    {
        var stacked = c.Op("Concat", [.. phases.Select(p => c.Unsqueeze(p, 2))], Attribute.Of("axis", 2L));
        var kernel = new float[16];
        for (int p = 0; p < 4; p++) kernel[5 * p] = 1; // phase p = 2a + b lands at (a, b) of its 2x2 block
        var placed = c.Op("ConvTranspose", [c.Reshape(stacked, -1, 4, phaseSize[0], phaseSize[1]), c.Constant(Tensor.FromFloats([4, 1, 2, 2], kernel), "phase_placement")],
            Attribute.Of("kernel_shape", [2L, 2L]), Attribute.Of("strides", [2L, 2L]));
        return c.Reshape(placed, shape);
    }

    /// <summary>The stride phase of a window offset and how many phase positions it lies past the window's start.</summary>
    private static (long Phase, long Shift) PhaseOf(long offset, long stride)
    {
        long shift = offset >= 0 ? offset / stride : -((stride - 1 - offset) / stride);
        return (offset - shift * stride, shift);
    }

    /// <summary>Pads (or crops, where negative) the two spatial axes; new positions take <paramref name="fill"/> (zero when absent).</summary>
    private static Value Shift(GradientContext c, Value v, long[] begins, long[] ends, Value? fill = null) =>
        begins.Concat(ends).All(p => p == 0) ? v : c.Pad(v, [0, 0, .. begins], [0, 0, .. ends], fill);
}
