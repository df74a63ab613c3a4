namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// An 8-bit image in memory: rows top to bottom, pixels left to right, channels interleaved
/// (RGB or L), no row padding. The image owns <see cref="Pixels"/>; operations return new images.
/// </summary>
public sealed class PixelImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied) as a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    /// <exception cref="ArgumentException">The buffer length is not width * height * channels.</exception>
    public PixelImage(int width, int height, ChannelFormat format, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * ChannelCount(format))
        {
            throw new ArgumentException(
                $"Expected {(long)width * height * ChannelCount(format)} bytes for a {width}x{height} {format} image, got {pixels.LongLength}.",
                nameof(pixels));
        }

        Width = width;
        Height = height;
        Format = format;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Which channels <see cref="Pixels"/> holds.</summary>
    public ChannelFormat Format { get; }

    /// <summary>Channels per pixel: 3 for RGB, 1 for L.</summary>
    public int Channels => ChannelCount(Format);

    /// <summary>Interleaved pixel bytes, <c>Width * Height * Channels</c> long.</summary>
    public byte[] Pixels { get; }

    /// <summary>Number of channels of <paramref name="format"/>.</summary>
    public static int ChannelCount(ChannelFormat format) => format == ChannelFormat.Rgb ? 3 : 1;

    /// <summary>
    /// This image in <paramref name="format"/>: L is replicated to RGB, RGB is reduced to L with PIL's
    /// fixed-point ITU-R 601-2 weights. Returns this instance when the format already matches.
    /// </summary>
    public PixelImage ConvertTo(ChannelFormat format)
    {
        if (format == Format)
        {
            return this;
        }

        var pixelCount = Width * Height;
        var converted = new byte[pixelCount * ChannelCount(format)];
        if (format == ChannelFormat.L)
        {
            PixelConversion.RgbToLuminance(Pixels, 3, converted);
        }
        else
        {
            for (var i = 0; i < pixelCount; i++)
            {
                var value = Pixels[i];
                converted[3 * i] = value;
                converted[3 * i + 1] = value;
                converted[3 * i + 2] = value;
            }
        }

        return new PixelImage(Width, Height, format, converted);
    }
}
