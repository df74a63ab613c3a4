using OnnxTrainer.Inference.Tests;
using SkiaSharp;

namespace OnnxTrainer.Tests.Data;

/// <summary>A scratch folder for generated datasets, deleted on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "onnx-trainer-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Writes <paramref name="bytes"/> at <paramref name="relativePath"/> (folders created) and returns the full path.</summary>
    public string Write(string relativePath, byte[] bytes)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A distinct, textured test picture (so resizes and crops change pixels) as PNG/JPEG/WebP.</summary>
    public static byte[] Picture(int seed, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int width = 48, int height = 36, bool grayscale = false, bool alpha = false) =>
        EncodedImages.Encode(width, height, (x, y) => Color(seed, x, y, alpha), format, grayscale);

    /// <summary>The same kind of picture as an uncompressed BMP.</summary>
    public static byte[] BmpPicture(int seed, int width = 40, int height = 30) =>
        EncodedImages.Bmp(width, height, (x, y) => Color(seed, x, y, alpha: false));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private static SKColor Color(int seed, int x, int y, bool alpha) => new(
        (byte)(x * 5 + seed * 40),
        (byte)(y * 7 + seed * 13),
        (byte)((x ^ y) * 3 + seed * 71),
        alpha ? (byte)(x * 5) : (byte)255);
}
