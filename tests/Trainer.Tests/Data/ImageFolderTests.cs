using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Inference.Tests;
using SkiaSharp;
using Xunit;

namespace OnnxTrainer.Tests.Data;

public sealed class ImageFolderTests
{
    [Fact]
    public void FromFolder_NestedMixedFormats_FindsEveryImageUnderSortedClasses()
    {
        // Arrange
        using var tree = new TemporaryDirectory();
        tree.Write("cat/a.jpg", TemporaryDirectory.Picture(1, SKEncodedImageFormat.Jpeg));
        tree.Write("cat/deep/er/b.PNG", TemporaryDirectory.Picture(2));
        tree.Write("cat/c.webp", TemporaryDirectory.Picture(3, SKEncodedImageFormat.Webp));
        tree.Write("Dog/d.bmp", TemporaryDirectory.BmpPicture(4));
        tree.Write("Dog/e.gif", EncodedImages.Gif(12, 9, [SKColors.Red, SKColors.Lime], (x, y) => (x + y) % 2));
        tree.Write("Dog/gray.png", TemporaryDirectory.Picture(5, grayscale: true));
        tree.Write("bird/rgba.png", TemporaryDirectory.Picture(6, alpha: true));
        tree.Write("bird/f.JPEG", TemporaryDirectory.Picture(7, SKEncodedImageFormat.Jpeg, grayscale: true));
        tree.Write("bird/.hidden.png", TemporaryDirectory.Picture(8));
        tree.Write("bird/.cache/g.png", TemporaryDirectory.Picture(9));
        tree.Write("bird/notes.txt", "not an image"u8.ToArray());
        tree.Write("bird/h.png.bak", TemporaryDirectory.Picture(10));
        tree.Write(".git/objects/i.png", TemporaryDirectory.Picture(11));
        tree.Write("loose.png", TemporaryDirectory.Picture(12));

        // Act
        var dataset = ImageDataset.FromFolder(tree.Root);

        // Assert: ordinal order puts upper case first.
        Assert.Equal(["Dog", "bird", "cat"], dataset.Classes);
        Assert.Equal([3, 2, 3], dataset.ClassCounts);
        Assert.Empty(dataset.Skipped);
        Assert.Equal(
            ["Dog/d.bmp", "Dog/e.gif", "Dog/gray.png", "bird/f.JPEG", "bird/rgba.png", "cat/a.jpg", "cat/c.webp", "cat/deep/er/b.PNG"],
            dataset.Samples.Select(s => Path.GetRelativePath(tree.Root, s.Source)).ToArray());
        for (var i = 0; i < dataset.Count; i++)
        {
            var rgb = dataset.Decode(i, ChannelFormat.Rgb);
            Assert.Equal(ChannelFormat.Rgb, rgb.Format);
            Assert.Equal(ChannelFormat.L, dataset.Decode(i, ChannelFormat.L).Format);
        }
    }

    [Fact]
    public void FromFolder_GrayscaleImageAsRgb_ReplicatesChannels()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a/gray.png", TemporaryDirectory.Picture(5, grayscale: true));

        var image = ImageDataset.FromFolder(tree.Root).Decode(0, ChannelFormat.Rgb);

        for (var i = 0; i < image.Width * image.Height; i++)
        {
            Assert.Equal(image.Pixels[3 * i], image.Pixels[3 * i + 1]);
            Assert.Equal(image.Pixels[3 * i], image.Pixels[3 * i + 2]);
        }
    }

    [Fact]
    public void FromFolder_SameTreeTwice_GivesIdenticalSamples()
    {
        using var tree = new TemporaryDirectory();
        for (var i = 0; i < 6; i++)
        {
            tree.Write($"c{i % 2}/n{i}/img{i}.png", TemporaryDirectory.Picture(i));
        }

        var first = ImageDataset.FromFolder(tree.Root);
        var second = ImageDataset.FromFolder(tree.Root);

        Assert.Equal(first.Samples, second.Samples);
    }

    [Fact]
    public void FromFolder_MissingRoot_ThrowsDatasetException()
    {
        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder("/nonexistent/images"));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_NoClassFolders_ThrowsDatasetException()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("loose.png", TemporaryDirectory.Picture(1));

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(tree.Root));

        Assert.Contains("no class subfolders", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_ClassFolderWithoutImages_ThrowsNamingTheClass()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("full/a.png", TemporaryDirectory.Picture(1));
        tree.Write("empty/readme.txt", "x"u8.ToArray());

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(tree.Root));

        Assert.Contains("'empty'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_OnlyBadFiles_ThrowsEmptyDataset()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a/zero.png", []);
        tree.Write("b/text.jpg", "hello"u8.ToArray());

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(tree.Root));

        Assert.Contains("no usable image", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 file(s) skipped", error.Message, StringComparison.Ordinal);
    }
}
