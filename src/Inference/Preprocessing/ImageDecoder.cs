using System.Buffers;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Decodes JPEG, PNG, BMP, GIF (first frame) and WebP with SkiaSharp into <see cref="PixelImage"/>s:
/// EXIF orientation applied, palette/grayscale/alpha converted to the requested channels the way PIL's
/// <c>convert</c> does (alpha dropped, not composited), embedded color profiles ignored (as PIL does).
/// A BGR model's images decode to RGB (<see cref="PixelImage.StoredAs"/>).
/// Oversized images are refused from the header, before any pixel memory is allocated.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Default pixel limit (100 megapixels, e.g. 10,000 x 10,000); larger headers are treated as decompression bombs.</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>Largest image file read (256 MB): far over any photo, under what a link to a device could pour in.</summary>
    private const long MaxFileBytes = 256L << 20;

    private const int PooledBufferLimit = 16 << 20;

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="channels">The pixel format wanted.</param>
    /// <param name="maxPixels">Images declaring more pixels are refused before decoding (decompression bombs).</param>
    /// <param name="checkJpegData">
    /// Walk a baseline JPEG's compressed data for the damage libjpeg decodes anyway (<see cref="JpegScanCheck"/>; about a
    /// third more CPU than the decode alone). A reader that decodes the same file again can skip it after the first time.
    /// </param>
    /// <exception cref="ImageDecodeException">Empty, unrecognized, truncated, corrupt or too large.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> encoded, ChannelFormat channels, long maxPixels = DefaultMaxPixels, bool checkJpegData = true)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(DecodeFailure.Empty, "The image is empty (0 bytes).");
        }

        using var data = SKData.CreateCopy(encoded);
        var header = encoded[..Math.Min(encoded.Length, DeclaredSize.HeaderBytes)].ToArray();
        using var codec = OpenCodec(new SKMemoryStream(data), () => header, maxPixels);
        return DecodePixels(codec, encoded, channels, maxPixels, checkJpegData);
    }

    /// <summary>Reads and decodes the image file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">Unreadable, empty, unrecognized, truncated, corrupt or too large.</exception>
    public static PixelImage DecodeFile(string path, ChannelFormat channels, long maxPixels = DefaultMaxPixels, bool checkJpegData = true) =>
        Decode(ReadFile(path), channels, maxPixels, checkJpegData);

    /// <summary>
    /// Checks the header of the image file at <paramref name="path"/> without decoding pixels and
    /// returns its upright size (EXIF rotation applied). Catches empty, non-image and oversized files
    /// cheaply; truncation only shows when the pixels are decoded.
    /// </summary>
    /// <exception cref="ImageDecodeException">Unreadable, empty, unrecognized or too large.</exception>
    public static (int Width, int Height) ProbeFile(string path, long maxPixels = DefaultMaxPixels)
    {
        CheckFile(path);

        // SKFileStream reads lazily, so only the header is touched.
        var stream = new SKFileStream(path);
        if (!stream.IsValid)
        {
            stream.Dispose();
            throw new ImageDecodeException(DecodeFailure.Unreadable, "Cannot open the file.");
        }

        using var codec = OpenCodec(stream, () => ReadHeader(path), maxPixels);
        var (width, height) = CheckSize(codec, maxPixels);
        return IsTransposed(codec.EncodedOrigin) ? (height, width) : (width, height);
    }

    private static byte[] ReadFile(string path)
    {
        CheckFile(path);
        try
        {
            return BoundedFile.ReadAllBytes(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(DecodeFailure.Unreadable, $"Cannot read the file: {e.Message}.", e);
        }
    }

    /// <summary>Only a regular file of up to <see cref="MaxFileBytes"/> is opened (<see cref="BoundedFile"/>): a pipe would block, a device never end.</summary>
    private static void CheckFile(string path)
    {
        try
        {
            BoundedFile.CheckedLength(path, MaxFileBytes);
        }
        catch (IOException e) when (new FileInfo(path) is { Exists: true, Length: 0 })
        {
            throw new ImageDecodeException(DecodeFailure.Empty, $"The file is {e.Message}.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(DecodeFailure.Unreadable, $"Cannot read the file: {e.Message}.", e);
        }
    }

    /// <summary>The first bytes of the file at <paramref name="path"/>, for <see cref="DeclaredSize"/> (the file is known to be a regular one).</summary>
    private static byte[] ReadHeader(string path)
    {
        using var file = BoundedFile.OpenRead(path, MaxFileBytes);
        var header = new byte[DeclaredSize.HeaderBytes];
        return header[..file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false)];
    }

    /// <summary>
    /// Skia takes ownership of <paramref name="stream"/> (and frees it on failure): never dispose it here.
    /// <paramref name="header"/> gives the first bytes, read only where Skia refuses the image.
    /// </summary>
    private static SKCodec OpenCodec(SKStream stream, Func<byte[]> header, long maxPixels)
    {
        var codec = SKCodec.Create(stream, out var result);
        if (codec is not null)
        {
            return codec;
        }

        // Skia refuses a header of size 0 as truncated, one too large for it as no image at all: say what the header declares.
        if (DeclaredSize.Of(header()) is var (format, width, height))
        {
            CheckSize(width, height, maxPixels, format);
        }

        throw result switch
        {
            SKCodecResult.IncompleteInput => new ImageDecodeException(DecodeFailure.Truncated, "The image header is truncated."),
            _ => new ImageDecodeException(DecodeFailure.NotAnImage, "Not a supported image (JPEG, PNG, BMP, GIF or WebP)."),
        };
    }

    private static (int Width, int Height) CheckSize(SKCodec codec, long maxPixels)
    {
        var info = codec.Info;
        CheckSize(info.Width, info.Height, maxPixels, format: null);
        return (info.Width, info.Height);
    }

    private static void CheckSize(long width, long height, long maxPixels, string? format)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException(DecodeFailure.Corrupt, $"The {(format is null ? "" : format + " ")}header declares an invalid size {width}x{height}.");
        }

        if (width * height > maxPixels)
        {
            throw new ImageDecodeException(
                DecodeFailure.TooLarge,
                $"The {(format is null ? "" : format + " ")}header declares {width}x{height} pixels, over the limit of {maxPixels:N0} (possible decompression bomb).");
        }
    }

    private static PixelImage DecodePixels(SKCodec codec, ReadOnlySpan<byte> encoded, ChannelFormat channels, long maxPixels, bool checkJpegData)
    {
        channels = PixelImage.StoredAs(channels);
        var (width, height) = CheckSize(codec, maxPixels);

        // Unpremultiplied RGBA without a color space: raw stored values, as PIL gives them.
        // The RGBA buffer lives only until the channel conversion: pool it (it is a large-object
        // allocation per image otherwise), unless it is so big that the pool would hoard it.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var size = checked((int)info.BytesSize64);
        var pooled = size <= PooledBufferLimit;
        var rgba = pooled ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        try
        {
            SKCodecResult result;
            var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
            try
            {
                result = codec.GetPixels(info, handle.AddrOfPinnedObject());
            }
            finally
            {
                handle.Free();
            }

            switch (result)
            {
                case SKCodecResult.Success:
                    break;
                case SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput:
                    throw new ImageDecodeException(DecodeFailure.Truncated, $"The image data is truncated or damaged ({result}).");
                default:
                    throw new ImageDecodeException(DecodeFailure.Corrupt, $"The image could not be decoded ({result}).");
            }

            // libjpeg only warns about damaged compressed data and decodes it anyway: gray or smeared blocks, reported as success.
            if (checkJpegData && codec.EncodedFormat == SKEncodedImageFormat.Jpeg && JpegScanCheck.FindDamage(encoded) is { } damage)
            {
                throw new ImageDecodeException(DecodeFailure.Corrupt, $"The JPEG's compressed data is damaged: {damage}.");
            }

            var pixels = GC.AllocateUninitializedArray<byte>(width * height * PixelImage.ChannelCount(channels));
            var decoded = rgba.AsSpan(0, size);
            if (channels == ChannelFormat.Rgb)
            {
                PixelConversion.RgbaToRgb(decoded, pixels);
            }
            else
            {
                PixelConversion.RgbToLuminance(decoded, 4, pixels);
            }

            return ImageOrientation.Apply(new PixelImage(width, height, channels, pixels), codec.EncodedOrigin);
        }
        finally
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(rgba);
            }
        }
    }

    private static bool IsTransposed(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
}
