namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>Channel conversions with PIL's exact arithmetic, so decoded pixels match the torchvision reference.</summary>
internal static class PixelConversion
{
    /// <summary>
    /// Luminance from the first three channels of each <paramref name="stride"/>-byte pixel:
    /// PIL's <c>L24</c> macro, (R*19595 + G*38470 + B*7471 + 0x8000) &gt;&gt; 16.
    /// </summary>
    public static void RgbToLuminance(ReadOnlySpan<byte> source, int stride, Span<byte> destination)
    {
        for (int i = 0, s = 0; i < destination.Length; i++, s += stride)
        {
            destination[i] = (byte)((source[s] * 19595 + source[s + 1] * 38470 + source[s + 2] * 7471 + 0x8000) >> 16);
        }
    }

    /// <summary>Drops alpha from unpremultiplied RGBA, as PIL's <c>convert("RGB")</c> does (no compositing).</summary>
    public static void RgbaToRgb(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int d = 0, s = 0; d < destination.Length; d += 3, s += 4)
        {
            destination[d] = source[s];
            destination[d + 1] = source[s + 1];
            destination[d + 2] = source[s + 2];
        }
    }
}
