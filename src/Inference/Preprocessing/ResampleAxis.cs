namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Fixed-point filter taps along one axis for antialiased bilinear resampling, computed exactly as
/// Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> (Resample.c): when downscaling,
/// the triangle filter is widened by the scale factor, so every source pixel contributes (area-like
/// antialiasing); when upscaling it is plain bilinear. Matching Pillow bit for bit is what lets our
/// preprocessing reproduce torchvision's PIL-based transforms exactly.
/// </summary>
internal sealed class ResampleAxis
{
    /// <summary>Weights are integers scaled by 2^22, Pillow's PRECISION_BITS for 8-bit images.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    private ResampleAxis(int kernelSize, int[] first, int[] count, int[] weights)
    {
        KernelSize = kernelSize;
        First = first;
        Count = count;
        Weights = weights;
    }

    /// <summary>Stride between the taps of consecutive outputs in <see cref="Weights"/>.</summary>
    public int KernelSize { get; }

    /// <summary>First source index read by each output.</summary>
    public int[] First { get; }

    /// <summary>Number of source indices read by each output.</summary>
    public int[] Count { get; }

    /// <summary>Fixed-point weights, <see cref="KernelSize"/> per output.</summary>
    public int[] Weights { get; }

    /// <summary>Number of outputs.</summary>
    public int Length => First.Length;

    /// <summary>
    /// Taps mapping source span [<paramref name="in0"/>, <paramref name="in1"/>) of an axis of
    /// <paramref name="inSize"/> pixels onto <paramref name="outSize"/> outputs, keeping only outputs
    /// <paramref name="outStart"/> .. <paramref name="outStart"/> + <paramref name="outCount"/> - 1
    /// (a crop computed without resizing the rest).
    /// </summary>
    public static ResampleAxis Compute(int inSize, float in0, float in1, int outSize, int outStart, int outCount)
    {
        // Pillow takes the box as C floats and subtracts them in float before widening to double.
        double scale = (double)(in1 - in0) / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterScale; // bilinear support is 1, widened when downscaling
        var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outCount];
        var count = new int[outCount];
        var weights = new int[outCount * kernelSize];
        var taps = new double[kernelSize];
        for (var i = 0; i < outCount; i++)
        {
            var center = in0 + (outStart + i + 0.5) * scale;
            var inverseScale = 1.0 / filterScale;
            // (int) truncates toward zero like the C cast Pillow uses.
            var xMin = Math.Max((int)(center - support + 0.5), 0);
            var xMax = Math.Min((int)(center + support + 0.5), inSize) - xMin;
            var total = 0.0;
            for (var x = 0; x < xMax; x++)
            {
                var weight = Triangle((x + xMin - center + 0.5) * inverseScale);
                taps[x] = weight;
                total += weight;
            }

            for (var x = 0; x < xMax; x++)
            {
                var normalized = total != 0.0 ? taps[x] / total : taps[x];
                weights[i * kernelSize + x] = normalized < 0
                    ? (int)(-0.5 + normalized * (1 << PrecisionBits))
                    : (int)(0.5 + normalized * (1 << PrecisionBits));
            }

            first[i] = xMin;
            count[i] = Math.Max(xMax, 0);
        }

        return new ResampleAxis(kernelSize, first, count, weights);
    }

    /// <summary>Whether this axis copies the source unchanged (same size, no offset), so its pass can be skipped.</summary>
    public static bool IsIdentity(int inSize, float in0, float in1, int outSize, int outStart, int outCount) =>
        inSize == outSize && in0 == 0 && in1 == inSize && outStart == 0 && outCount == outSize;

    /// <summary>Pillow's <c>clip8</c>: rounds (the accumulator starts at one half) and saturates a fixed-point sum.</summary>
    public static byte Clip(int accumulator)
    {
        if (accumulator >= (1 << PrecisionBits << 8))
        {
            return 255;
        }

        return accumulator <= 0 ? (byte)0 : (byte)(accumulator >> PrecisionBits);
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
