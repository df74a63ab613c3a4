namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// An 8-bit image in memory: rows top to bottom, pixels left to right, channels interleaved
/// (RGB or L; a BGR model's images are held as RGB and reordered when the tensor is written), no row
/// padding. The image owns <see cref="Pixels"/>; operations return new images.
/// </summary>
public sealed class PixelImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied) as a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    /// <exception cref="ArgumentException">The buffer length is not width * height * channels, or the format is BGR.</exception>
    public PixelImage(int width, int height, ChannelFormat format, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (format == ChannelFormat.Bgr)
        {
            throw new ArgumentException("Images hold RGB or L pixels; BGR is applied when the tensor is written.", nameof(format));
        }

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
    public static int ChannelCount(ChannelFormat format) => format == ChannelFormat.L ? 1 : 3;

    /// <summary>How images for a model that reads <paramref name="channels"/> are held: L as L, RGB and BGR as RGB.</summary>
    public static ChannelFormat StoredAs(ChannelFormat channels) => channels == ChannelFormat.L ? ChannelFormat.L : ChannelFormat.Rgb;

    /// <summary>
    /// This image as held for a model that reads <paramref name="format"/> (<see cref="StoredAs"/>): L is
    /// replicated to RGB, RGB is reduced to L with PIL's fixed-point ITU-R 601-2 weights. Returns this
    /// instance when the format already matches.
    /// </summary>
    public PixelImage ConvertTo(ChannelFormat format)
    {
        format = StoredAs(format);
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
