using System.Drawing;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Inference.Tests;

public sealed class ImageResamplerTests
{
    [Theory]
    [InlineData(50, 40, 17, 13)]
    [InlineData(10, 7, 31, 29)]
    public void Resize_ConstantImage_StaysConstant(int width, int height, int outWidth, int outHeight)
    {
        var source = new PixelImage(width, height, ChannelFormat.Rgb, Enumerable.Repeat((byte)77, width * height * 3).ToArray());

        var resized = ImageResampler.Resize(source, outWidth, outHeight);

        Assert.All(resized.Pixels, value => Assert.Equal(77, value));
    }

    [Fact]
    public void ResizeAndCrop_Region_EqualsResizeThenCrop()
    {
        var random = new Random(3);
        var pixels = new byte[37 * 23 * 3];
        random.NextBytes(pixels);
        var source = new PixelImage(37, 23, ChannelFormat.Rgb, pixels);
        var crop = new Rectangle(3, 2, 11, 9);

        var full = ImageResampler.Resize(source, 20, 15);
        var cropped = ImageResampler.ResizeAndCrop(source, 20, 15, crop);

        for (var y = 0; y < crop.Height; y++)
        {
            Assert.Equal(
                full.Pixels.AsSpan(((y + crop.Y) * 20 + crop.X) * 3, crop.Width * 3).ToArray(),
                cropped.Pixels.AsSpan(y * crop.Width * 3, crop.Width * 3).ToArray());
        }
    }

    [Fact]
    public void ResizeRegion_WholeImageBox_EqualsResize()
    {
        var pixels = Enumerable.Range(0, 30 * 20).Select(i => (byte)(i * 7)).ToArray();
        var source = new PixelImage(30, 20, ChannelFormat.L, pixels);

        var viaBox = ImageResampler.ResizeRegion(source, new RectangleF(0, 0, 30, 20), 12, 9);
        var direct = ImageResampler.Resize(source, 12, 9);

        Assert.Equal(direct.Pixels, viaBox.Pixels);
    }

    [Fact]
    public void ResizeRegion_BoxOutsideImage_Throws()
    {
        var source = new PixelImage(4, 4, ChannelFormat.L, new byte[16]);

        Assert.Throws<ArgumentOutOfRangeException>(() => ImageResampler.ResizeRegion(source, new RectangleF(2, 0, 4, 4), 2, 2));
    }
}
