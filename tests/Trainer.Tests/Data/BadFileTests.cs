using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Inference.Tests;
using SkiaSharp;
using Xunit;

namespace OnnxTrainer.Tests.Data;

/// <summary>Every kind of unusable file is skipped, counted and reported with its path and reason; the rest still loads.</summary>
public sealed class BadFileTests
{
    private static readonly PreprocessingSpec Spec = PreprocessingSpec.ImageNet(inputSize: 16, resize: 20);

    [Theory]
    [InlineData("zero.png", DecodeFailure.Empty)]
    [InlineData("text.jpg", DecodeFailure.NotAnImage)]
    [InlineData("random.webp", DecodeFailure.NotAnImage)]
    [InlineData("bomb.png", DecodeFailure.TooLarge)]
    public void FromFolder_BadFile_SkippedAtScanWithReason(string name, DecodeFailure failure)
    {
        // Arrange
        using var tree = new TemporaryDirectory();
        tree.Write("a/good1.png", TemporaryDirectory.Picture(1));
        tree.Write("b/good2.png", TemporaryDirectory.Picture(2));
        var bad = tree.Write($"b/{name}", BadBytes(name));

        // Act
        var dataset = ImageDataset.FromFolder(tree.Root);

        // Assert
        Assert.Equal(2, dataset.Count);
        var skipped = Assert.Single(dataset.Skipped);
        Assert.Equal(bad, skipped.Path);
        Assert.Equal(failure, skipped.Failure);
        Assert.False(string.IsNullOrWhiteSpace(skipped.Reason));
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Png)]
    public void FromFolder_TruncatedFileWithVerifyPixels_SkippedAtScan(SKEncodedImageFormat format)
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a/good.png", TemporaryDirectory.Picture(1));
        var truncated = tree.Write(format == SKEncodedImageFormat.Jpeg ? "a/cut.jpg" : "a/cut.png", Truncated(format));

        var dataset = ImageDataset.FromFolder(tree.Root, new ScanOptions { VerifyPixels = true });

        Assert.Equal(1, dataset.Count);
        var skipped = Assert.Single(dataset.Skipped);
        Assert.Equal((truncated, DecodeFailure.Truncated), (skipped.Path, skipped.Failure));
    }

    [Fact]
    public void ReadEpoch_TruncatedFileFoundWhileLoading_SkipsItAndKeepsBatchesFull()
    {
        // Arrange: the header is intact, so only decoding finds the damage.
        using var tree = new TemporaryDirectory();
        for (var i = 0; i < 8; i++)
        {
            tree.Write($"c{i % 2}/img{i}.png", TemporaryDirectory.Picture(i));
        }

        var truncated = tree.Write("c0/cut.jpg", Truncated(SKEncodedImageFormat.Jpeg));
        var dataset = ImageDataset.FromFolder(tree.Root);
        Assert.Equal(9, dataset.Count);
        var loader = new DataLoader(dataset, Spec, new DataLoaderOptions { BatchSize = 4, Shuffle = true, Seed = 1, DropLast = true });

        // Act
        var first = loader.ReadEpoch(0).ToList();
        var second = loader.ReadEpoch(1).ToList();

        // Assert
        Assert.Equal([4, 4], first.Select(b => b.Count));
        Assert.Equal([4, 4], second.Select(b => b.Count));
        var skipped = Assert.Single(dataset.Skipped);
        Assert.Equal((truncated, DecodeFailure.Truncated), (skipped.Path, skipped.Failure));
        Assert.DoesNotContain(first.Concat(second).SelectMany(b => b.SampleIndices), i => dataset.Samples[i].Source == truncated);
        Assert.Equal(2, loader.BatchesPerEpoch);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ReadEpoch_FromBatchOnAfterDamageMarked_SameBatchesAsTheWholeEpoch(int firstBatch)
    {
        // A resumed run starts mid-epoch without reading the batches before: given the damage the first run found
        // (from its checkpoint), the batches it reads are the ones the uninterrupted epoch had.
        using var tree = new TemporaryDirectory();
        for (int i = 0; i < 11; i++) tree.Write($"c{i % 2}/img{i}.png", TemporaryDirectory.Picture(i));
        var truncated = tree.Write("c0/cut.jpg", Truncated(SKEncodedImageFormat.Jpeg));
        var options = new DataLoaderOptions { BatchSize = 3, Shuffle = true, Seed = 4 };
        var whole = ImageDataset.FromFolder(tree.Root);
        var expected = new DataLoader(whole, Spec, options).ReadEpoch(2).Skip(firstBatch).ToList();
        Assert.Contains(whole.Skipped, s => s.Path == truncated);

        var resumed = ImageDataset.FromFolder(tree.Root);
        resumed.MarkSkipped(whole.Skipped.Select(s => s.Path));
        var actual = new DataLoader(resumed, Spec, options).ReadEpoch(2, firstBatch).ToList();

        Assert.Equal(expected.Select(b => b.SampleIndices), actual.Select(b => b.SampleIndices));
        Assert.Equal(expected.SelectMany(b => b.Images), actual.SelectMany(b => b.Images));
    }

    [Fact]
    public void FromCsv_MissingFile_SkippedAsUnreadable()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("img/a.png", TemporaryDirectory.Picture(1));
        var csv = tree.Write("list.csv", "img/a.png,x\nimg/gone.png,x\n"u8.ToArray());

        var dataset = ImageDataset.FromCsv(csv);

        Assert.Equal(1, dataset.Count);
        Assert.Equal(DecodeFailure.Unreadable, Assert.Single(dataset.Skipped).Failure);
    }

    [Fact]
    public void FromFolder_ClassWhoseOnlyImageIsBad_ThrowsBeforeTraining()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("good/a.png", TemporaryDirectory.Picture(1));
        tree.Write("broken/b.png", EncodedImages.PngHeaderClaiming(20_000, 20_000));

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromFolder(tree.Root));

        Assert.Contains("'broken'", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 file(s) skipped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_LowerPixelLimit_SkipsLargerImages()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a/small.png", TemporaryDirectory.Picture(1, width: 10, height: 10));
        tree.Write("a/large.png", TemporaryDirectory.Picture(2, width: 40, height: 40));

        var dataset = ImageDataset.FromFolder(tree.Root, new ScanOptions { MaxPixels = 1000 });

        Assert.Equal(1, dataset.Count);
        Assert.Equal(DecodeFailure.TooLarge, Assert.Single(dataset.Skipped).Failure);
    }

    private static byte[] BadBytes(string name) => name switch
    {
        "zero.png" => [],
        "text.jpg" => "this is a text file, not a JPEG\n"u8.ToArray(),
        "random.webp" => Enumerable.Range(0, 512).Select(i => (byte)(i * 37 + 11)).ToArray(),
        _ => EncodedImages.PngHeaderClaiming(20_000, 20_000),
    };

    private static byte[] Truncated(SKEncodedImageFormat format)
    {
        var full = TemporaryDirectory.Picture(3, format, width: 64, height: 64);
        return full[..(full.Length / 2)];
    }
}
