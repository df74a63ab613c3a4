using System.Buffers.Binary;
using OnnxTrainer.Inference.Preprocessing;
using SkiaSharp;
using Xunit;

namespace OnnxTrainer.Inference.Tests;

/// <summary>
/// Images that libjpeg and Skia decode "successfully" into gray or smeared blocks, and headers whose problem the message
/// must name: each is an <see cref="ImageDecodeException"/> of the right kind.
/// </summary>
public class DamagedImageTests
{
    private static readonly byte[] Jpeg = EncodedImages.Encode(96, 80, (x, y) => new SKColor((byte)(x * 5), (byte)(y * 7), (byte)((x ^ y) * 3)), SKEncodedImageFormat.Jpeg);

    /// <summary>Where the entropy-coded data starts: after the start-of-scan segment.</summary>
    private static int ScanData
    {
        get
        {
            int sos = Jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
            return sos + 2 + (Jpeg[sos + 2] << 8 | Jpeg[sos + 3]);
        }
    }

    public static TheoryData<string> Damages => ["random bytes", "zeros", "a marker", "cut out", "cut short"];

    [Theory]
    [MemberData(nameof(Damages))]
    public void Decode_JpegWithDamagedEntropyData_ThrowsCorrupt(string damage)
    {
        var bytes = (byte[])Jpeg.Clone();
        int at = ScanData + 300;
        switch (damage)
        {
            case "random bytes": new Random(1).NextBytes(bytes.AsSpan(at, 40)); bytes.AsSpan(at, 40).Replace((byte)0xFF, (byte)0xFE); break;
            case "zeros": bytes.AsSpan(at, 200).Clear(); break;
            case "a marker": bytes[at] = 0xFF; bytes[at + 1] = 0xC4; break;
            case "cut out": bytes = [.. bytes[..at], .. bytes[(at + 400)..]]; break;
            case "cut short": bytes = [.. bytes[..at], 0xFF, 0xD9]; break;
        }

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, ChannelFormat.Rgb));

        Assert.Equal(DecodeFailure.Corrupt, error.Failure);
        Assert.StartsWith("The JPEG's compressed data is damaged: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10, false, 97, 61)]
    [InlineData(50, true, 8, 8)]
    [InlineData(90, false, 333, 17)]
    [InlineData(100, true, 1, 129)]
    [InlineData(100, false, 250, 250)]
    public void Decode_WholeJpegs_NoDamageFound(int quality, bool grayscale, int width, int height)
    {
        var jpeg = EncodedImages.Encode(width, height, (x, y) => new SKColor((byte)(x * quality), (byte)(y * 7), (byte)((x ^ y) * 3)), SKEncodedImageFormat.Jpeg, grayscale, quality);

        var image = ImageDecoder.Decode(jpeg, ChannelFormat.Rgb);

        Assert.Equal((width, height), (image.Width, image.Height));
    }

    [Fact]
    public void Decode_PngHeaderDeclaring0x0_SaysSoNotTruncated()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(EncodedImages.PngHeaderClaiming(0, 0), ChannelFormat.Rgb));

        Assert.Equal(DecodeFailure.Corrupt, error.Failure);
        Assert.Equal("The PNG header declares an invalid size 0x0.", error.Message);
    }

    [Fact]
    public void Decode_BmpOverThePixelLimit_ThrowsTooLargeNotUnsupported()
    {
        var bmp = EncodedImages.Bmp(4, 4, (_, _) => SKColors.Red);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 1_000_000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 40_000);

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bmp, ChannelFormat.Rgb));

        Assert.Equal(DecodeFailure.TooLarge, error.Failure);
        Assert.Contains("1000000x40000", error.Message, StringComparison.Ordinal);
    }
}
