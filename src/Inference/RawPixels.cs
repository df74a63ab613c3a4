using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Inference;

/// <summary>Copies a caller's pixel buffer (any of the <see cref="RawPixelFormat"/>s, rows possibly padded) into an RGB <see cref="PixelImage"/>.</summary>
internal static class RawPixels
{
    public static int BytesPerPixel(RawPixelFormat format) => format switch
    {
        RawPixelFormat.Rgb24 or RawPixelFormat.Bgr24 => 3,
        RawPixelFormat.Rgba32 or RawPixelFormat.Bgra32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };

    /// <summary>Copies <paramref name="pixels"/>; <paramref name="stride"/> is the bytes from one row to the next, 0 when rows are packed.</summary>
    /// <exception cref="ArgumentException">Sizes are not positive, the stride is shorter than a row, or the buffer is too short.</exception>
    public static PixelImage ToRgb(ReadOnlySpan<byte> pixels, RawPixelFormat format, int width, int height, int stride)
    {
        var bytesPerPixel = BytesPerPixel(format);
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentException($"Width and height must be positive, got {width}x{height}.");
        }

        var row = (long)width * bytesPerPixel;
        stride = stride == 0 ? (int)Math.Min(row, int.MaxValue) : stride;
        if (stride < row)
        {
            throw new ArgumentException($"Stride {stride} is shorter than a row of {width} {format} pixels ({row} bytes).", nameof(stride));
        }

        var needed = (long)stride * (height - 1) + row;
        if (pixels.Length < needed)
        {
            throw new ArgumentException(
                $"A {width}x{height} {format} image with stride {stride} needs {needed} bytes; the buffer has {pixels.Length}.", nameof(pixels));
        }

        var swap = format is RawPixelFormat.Bgr24 or RawPixelFormat.Bgra32;
        var rgb = GC.AllocateUninitializedArray<byte>(width * height * 3);
        for (var y = 0; y < height; y++)
        {
            var source = pixels.Slice(y * stride, (int)row);
            var destination = rgb.AsSpan(y * width * 3, width * 3);
            for (int x = 0, s = 0, d = 0; x < width; x++, s += bytesPerPixel, d += 3)
            {
                destination[d] = source[swap ? s + 2 : s];
                destination[d + 1] = source[s + 1];
                destination[d + 2] = source[swap ? s : s + 2];
            }
        }

        return new PixelImage(width, height, ChannelFormat.Rgb, rgb);
    }
}
