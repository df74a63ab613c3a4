using OnnxTrainer.Inference.Preprocessing;
using SkiaSharp;

namespace OnnxTrainer.Inference.Tests;

public sealed class ImageDecoderTests
{
    private static readonly SKColor Red = new(220, 20, 20);
    private static readonly SKColor Blue = new(20, 20, 220);

    [Theory]
    [InlineData(1, 64, 32, "left")]
    [InlineData(3, 64, 32, "right")]
    [InlineData(6, 32, 64, "top")]
    [InlineData(8, 32, 64, "bottom")]
    public void Decode_JpegWithExifOrientation_ReturnsUprightPixels(ushort orientation, int width, int height, string redSide)
    {
        // Arrange: stored image is 64x32, left half red, right half blue.
        var jpeg = EncodedImages.Encode(64, 32, (x, _) => x < 32 ? Red : Blue, SKEncodedImageFormat.Jpeg);
        var encoded = EncodedImages.WithExifOrientation(jpeg, orientation);

        // Act
        var image = ImageDecoder.Decode(encoded, ChannelFormat.Rgb);

        // Assert
        Assert.Equal((width, height), (image.Width, image.Height));
        var (rx, ry) = redSide switch
        {
            "left" => (width / 4, height / 2),
            "right" => (3 * width / 4, height / 2),
            "top" => (width / 2, height / 4),
            _ => (width / 2, 3 * height / 4),
        };
        var offset = (ry * width + rx) * 3;
        Assert.InRange(image.Pixels[offset], 200, 240);
        Assert.InRange(image.Pixels[offset + 2], 0, 40);
    }

    [Fact]
    public void ProbeFile_ExifRotatedJpeg_ReturnsUprightSize()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, EncodedImages.WithExifOrientation(EncodedImages.Encode(40, 10, (_, _) => Red, SKEncodedImageFormat.Jpeg), 6));

            Assert.Equal((10, 40), ImageDecoder.ProbeFile(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Decode_GrayscalePngAsRgb_ReplicatesChannel()
    {
        var png = EncodedImages.Encode(8, 4, (x, _) => new SKColor((byte)(x * 30), 0, 0), SKEncodedImageFormat.Png, grayscale: true);

        var image = ImageDecoder.Decode(png, ChannelFormat.Rgb);

        for (var x = 0; x < 8; x++)
        {
            Assert.Equal(new byte[] { (byte)(x * 30), (byte)(x * 30), (byte)(x * 30) }, image.Pixels.AsSpan(x * 3, 3).ToArray());
        }
    }

    [Fact]
    public void Decode_RgbaPng_DropsAlphaWithoutPremultiplying()
    {
        var png = EncodedImages.Encode(2, 2, (_, _) => new SKColor(200, 100, 50, 10), SKEncodedImageFormat.Png);

        var image = ImageDecoder.Decode(png, ChannelFormat.Rgb);

        Assert.Equal(new byte[] { 200, 100, 50 }, image.Pixels.AsSpan(0, 3).ToArray());
    }

    [Fact]
    public void Decode_RgbAsLuminance_UsesPillowWeights()
    {
        var png = EncodedImages.Encode(1, 1, (_, _) => new SKColor(200, 100, 50), SKEncodedImageFormat.Png);

        var image = ImageDecoder.Decode(png, ChannelFormat.L);

        // PIL: (200*19595 + 100*38470 + 50*7471 + 0x8000) >> 16 = 124
        Assert.Equal(new byte[] { 124 }, image.Pixels);
    }

    [Fact]
    public void Decode_BmpAndGif_ReadPixels()
    {
        var bmp = EncodedImages.Bmp(5, 3, (x, y) => new SKColor((byte)(x * 50), (byte)(y * 100), 7));
        var gif = EncodedImages.Gif(5, 3, [Red, Blue], (x, _) => x % 2);

        var fromBmp = ImageDecoder.Decode(bmp, ChannelFormat.Rgb);
        var fromGif = ImageDecoder.Decode(gif, ChannelFormat.Rgb);

        Assert.Equal(new byte[] { 200, 200, 7 }, fromBmp.Pixels.AsSpan((2 * 5 + 4) * 3, 3).ToArray());
        Assert.Equal(new byte[] { Blue.Red, Blue.Green, Blue.Blue }, fromGif.Pixels.AsSpan(3, 3).ToArray());
    }

    [Fact]
    public void Decode_Empty_ThrowsEmpty()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode([], ChannelFormat.Rgb));
        Assert.Equal(DecodeFailure.Empty, error.Failure);
    }

    [Fact]
    public void Decode_TextBytes_ThrowsNotAnImage()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("path,label\nnot an image\n"u8, ChannelFormat.Rgb));
        Assert.Equal(DecodeFailure.NotAnImage, error.Failure);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Png)]
    public void Decode_TruncatedImage_ThrowsTruncated(SKEncodedImageFormat format)
    {
        var full = EncodedImages.Encode(64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y)), format);

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(full.AsSpan(0, full.Length / 2), ChannelFormat.Rgb));

        Assert.Equal(DecodeFailure.Truncated, error.Failure);
    }

    [Fact]
    public void Decode_HeaderClaimingHugeSize_ThrowsTooLargeBeforeDecoding()
    {
        var bomb = EncodedImages.PngHeaderClaiming(20_000, 20_000);

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb, ChannelFormat.Rgb));

        Assert.Equal(DecodeFailure.TooLarge, error.Failure);
        Assert.Contains("20000x20000", error.Message, StringComparison.Ordinal);
    }
}
