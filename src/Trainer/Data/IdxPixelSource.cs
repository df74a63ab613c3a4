using System.Buffers.Binary;
using System.IO.Compression;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// Images and labels in IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw:
/// a big-endian header (magic 0x00000803 for N x H x W unsigned bytes, 0x00000801 for N labels)
/// followed by the data. Held in memory: 60,000 28x28 images are 47 MB.
/// </summary>
internal sealed class IdxPixelSource : IPixelSource
{
    /// <summary>Largest IDX file, compressed or inflated (2 GB, the largest array): the whole set is held in memory.</summary>
    private const long MaxFileBytes = int.MaxValue;

    private readonly byte[] _pixels;

    private IdxPixelSource(byte[] pixels, int count, int height, int width, byte[] labels)
    {
        _pixels = pixels;
        Count = count;
        Height = height;
        Width = width;
        Labels = labels;
    }

    public int Count { get; }

    public int Height { get; }

    public int Width { get; }

    public byte[] Labels { get; }

    public static IdxPixelSource Read(string imagesPath, string labelsPath)
    {
        var images = ReadIdx(imagesPath, expectedDimensions: 3);
        var labels = ReadIdx(labelsPath, expectedDimensions: 1);
        if (images.Dimensions[0] != labels.Dimensions[0])
        {
            throw new DatasetException($"'{imagesPath}' holds {images.Dimensions[0]} images but '{labelsPath}' holds {labels.Dimensions[0]} labels.");
        }

        return new IdxPixelSource(images.Data, images.Dimensions[0], images.Dimensions[1], images.Dimensions[2], labels.Data);
    }

    public PixelImage Decode(int key, ChannelFormat channels)
    {
        var plane = Width * Height;
        var gray = new PixelImage(Width, Height, ChannelFormat.L, _pixels.AsSpan(key * plane, plane).ToArray());
        return gray.ConvertTo(channels);
    }

    private static (int[] Dimensions, byte[] Data) ReadIdx(string path, int expectedDimensions)
    {
        byte[] bytes;
        try
        {
            bytes = BoundedFile.ReadAllBytes(path, MaxFileBytes);
            if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
            {
                bytes = Inflate(bytes);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new DatasetException($"Cannot read IDX file '{path}': {e.Message}", e);
        }

        // Magic: two zero bytes, type 0x08 (unsigned byte), number of dimensions.
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] != expectedDimensions)
        {
            throw new DatasetException($"'{path}' is not an IDX file of unsigned bytes with {expectedDimensions} dimension(s) (magic 0x0000080{expectedDimensions}).");
        }

        var headerLength = 4 + 4 * expectedDimensions;
        if (bytes.Length < headerLength)
        {
            throw new DatasetException($"IDX file '{path}' ends inside its header.");
        }

        var dimensions = new int[expectedDimensions];
        long expected = 1;
        for (var d = 0; d < expectedDimensions; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dimensions[d] <= 0)
            {
                throw new DatasetException($"IDX file '{path}' declares dimension {d} as {dimensions[d]}.");
            }

            // Checked against the data at each step: a product of three int32 can wrap a long (2^21 x 2^21 x 2^22 = 2^64 = 0).
            expected *= dimensions[d];
            if (d < expectedDimensions - 1 && expected > bytes.Length - headerLength)
            {
                throw new DatasetException($"IDX file '{path}' declares dimensions {string.Join("x", dimensions[..(d + 1)])}x..., more than the {bytes.Length - headerLength} bytes of data it holds.");
            }
        }

        if (bytes.Length - headerLength != expected)
        {
            throw new DatasetException($"IDX file '{path}' declares {string.Join("x", dimensions)} = {expected} bytes of data but holds {bytes.Length - headerLength}.");
        }

        return (dimensions, bytes[headerLength..]);
    }

    /// <summary>A gzip'ed IDX file inflated, up to <see cref="MaxFileBytes"/>: a small bomb must not fill the memory.</summary>
    private static byte[] Inflate(byte[] compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = gzip.Read(buffer)) > 0)
        {
            if (inflated.Length + read > MaxFileBytes)
            {
                throw new InvalidDataException($"it inflates to more than {MaxFileBytes:N0} bytes");
            }

            inflated.Write(buffer, 0, read);
        }

        return inflated.ToArray();
    }
}
