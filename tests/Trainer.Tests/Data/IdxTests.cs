using System.Buffers.Binary;
using System.IO.Compression;
using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using Xunit;

namespace OnnxTrainer.Tests.Data;

public sealed class IdxTests
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FromIdx_RawOrGzip_ReadsImagesAndLabels(bool gzip)
    {
        // Arrange: 6 images of 3x2, image i filled with 10*i, labels i % 3.
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 6, 2, 3, i => (byte)(i % 3), gzip);

        // Act
        var dataset = ImageDataset.FromIdx(images, labels);
        var image = dataset.Decode(4, ChannelFormat.Rgb);

        // Assert
        Assert.Equal(["0", "1", "2"], dataset.Classes);
        Assert.Equal([2, 2, 2], dataset.ClassCounts);
        Assert.Equal(new DataSample($"{images}#4", 1), dataset.Samples[4]);
        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.All(image.Pixels, value => Assert.Equal(40, value));
    }

    [Fact]
    public void SelectClasses_UpperHalf_RemapsLabelsFromZero()
    {
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 20, 2, 2, i => (byte)(i % 10), gzip: true);
        var dataset = ImageDataset.FromIdx(images, labels);

        var target = dataset.SelectClasses([9, 5, 6, 7, 8]);

        Assert.Equal(["5", "6", "7", "8", "9"], target.Classes);
        Assert.Equal(10, target.Count);
        Assert.All(target.Samples, s => Assert.Equal(int.Parse(s.Source.Split('#')[1], System.Globalization.CultureInfo.InvariantCulture) % 10 - 5, s.Label));
    }

    [Fact]
    public void FromIdx_KeepLabelsWithGapsElsewhere_OpensTheSubset()
    {
        // Labels 5..9 only: values 0..4 have no images, which FromIdx alone rejects.
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 10, 2, 2, i => (byte)(5 + i % 5), gzip: false);

        var dataset = ImageDataset.FromIdx(images, labels, keepLabels: [5, 6, 7, 8, 9]);

        Assert.Equal(["5", "6", "7", "8", "9"], dataset.Classes);
        Assert.Equal([2, 2, 2, 2, 2], dataset.ClassCounts);
    }

    [Fact]
    public void FromIdx_WithClassNames_KeepsLabelOrder()
    {
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 4, 1, 1, i => (byte)(i % 2), gzip: false);

        var dataset = ImageDataset.FromIdx(images, labels, ["zebra", "ant"]);

        Assert.Equal(["zebra", "ant"], dataset.Classes);
    }

    [Fact]
    public void FromIdx_LabelWithoutImages_ThrowsNamingTheClass()
    {
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 4, 1, 1, i => i < 2 ? (byte)0 : (byte)2, gzip: false);

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromIdx(images, labels));

        Assert.Contains("'1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromIdx_CountMismatch_ThrowsDatasetException()
    {
        using var tree = new TemporaryDirectory();
        var (images, _) = WriteIdx(tree, 4, 1, 1, _ => 0, gzip: false);
        var (_, labels) = WriteIdx(tree, 5, 1, 1, _ => 0, gzip: false, prefix: "other");

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromIdx(images, labels));

        Assert.Contains("4 images but", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromIdx_NotIdx_ThrowsDatasetException()
    {
        using var tree = new TemporaryDirectory();
        var images = tree.Write("images", "garbage bytes"u8.ToArray());
        var labels = tree.Write("labels", "garbage bytes"u8.ToArray());

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromIdx(images, labels));

        Assert.Contains("is not an IDX file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromIdx_TruncatedData_ThrowsDatasetException()
    {
        using var tree = new TemporaryDirectory();
        var (images, labels) = WriteIdx(tree, 4, 2, 2, _ => 0, gzip: false);
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..^3]);

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromIdx(images, labels));

        Assert.Contains("holds 13", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromIdx_FashionMnistTestSet_SourceAndTargetTasks()
    {
        // Debian's dataset-fashion-mnist; the shipped demo trains classes 0-4, then transfers to 5-9.
        var images = Path.Combine(FashionMnist, "t10k-images-idx3-ubyte.gz");
        var labels = Path.Combine(FashionMnist, "t10k-labels-idx1-ubyte.gz");
        Assert.True(File.Exists(images), $"{images} is missing; install dataset-fashion-mnist.");

        var dataset = ImageDataset.FromIdx(images, labels);
        var source = dataset.SelectClasses([0, 1, 2, 3, 4]);
        var target = dataset.SelectClasses([5, 6, 7, 8, 9]);

        Assert.Equal(10_000, dataset.Count);
        Assert.All(dataset.ClassCounts, n => Assert.Equal(1000, n));
        Assert.Equal((5000, 5000), (source.Count, target.Count));
        Assert.Equal(["5", "6", "7", "8", "9"], target.Classes);
        var image = target.Decode(0, ChannelFormat.L);
        Assert.Equal((28, 28), (image.Width, image.Height));
    }

    private static (string Images, string Labels) WriteIdx(TemporaryDirectory tree, int count, int height, int width, Func<int, byte> label, bool gzip, string prefix = "data")
    {
        var images = new byte[16 + count * height * width];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x0803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), height);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), width);
        for (var i = 0; i < count; i++)
        {
            images.AsSpan(16 + i * height * width, height * width).Fill((byte)(10 * i));
        }

        var labels = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x0801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), count);
        for (var i = 0; i < count; i++)
        {
            labels[8 + i] = label(i);
        }

        var suffix = gzip ? ".gz" : string.Empty;
        return (tree.Write($"{prefix}-images-idx3-ubyte{suffix}", Compress(images, gzip)), tree.Write($"{prefix}-labels-idx1-ubyte{suffix}", Compress(labels, gzip)));
    }

    private static byte[] Compress(byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            return bytes;
        }

        using var output = new MemoryStream();
        using (var stream = new GZipStream(output, CompressionLevel.Fastest))
        {
            stream.Write(bytes);
        }

        return output.ToArray();
    }
}
