using OnnxTrainer.Data;
using Xunit;

namespace OnnxTrainer.Tests.Data;

public sealed class CsvManifestTests
{
    [Fact]
    public void FromCsv_HeaderQuotesAndRelativePaths_ReadsRowsWithSortedClasses()
    {
        // Arrange
        using var tree = new TemporaryDirectory();
        tree.Write("data/images/one.png", TemporaryDirectory.Picture(1));
        tree.Write("data/images/with, comma.jpg", TemporaryDirectory.Picture(2, SkiaSharp.SKEncodedImageFormat.Jpeg));
        tree.Write("data/images/nested/three.bmp", TemporaryDirectory.BmpPicture(3));
        var absolute = tree.Write("elsewhere/four.png", TemporaryDirectory.Picture(4, grayscale: true));
        var csv = tree.Write("data/train.csv", System.Text.Encoding.UTF8.GetBytes(
            "path,label\n" +
            "images/one.png,zebra\n" +
            "\"images/with, comma.jpg\",\"ant\"\n" +
            "\n" +
            " images/nested/three.bmp , zebra \n" +
            $"{absolute},\"say \"\"hi\"\"\"\n"));

        // Act
        var dataset = ImageDataset.FromCsv(csv);

        // Assert
        Assert.Equal(["ant", "say \"hi\"", "zebra"], dataset.Classes);
        Assert.Equal(
            [
                new DataSample(Path.Combine(tree.Root, "data/images/one.png"), 2),
                new DataSample(Path.Combine(tree.Root, "data/images/with, comma.jpg"), 0),
                new DataSample(Path.Combine(tree.Root, "data/images/nested/three.bmp"), 2),
                new DataSample(absolute, 1),
            ],
            dataset.Samples);
    }

    [Fact]
    public void FromCsv_WithoutHeader_ReadsFirstRowAsData()
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a.png", TemporaryDirectory.Picture(1));
        tree.Write("b.png", TemporaryDirectory.Picture(2));
        var csv = tree.Write("list.csv", "a.png,left\nb.png,right\n"u8.ToArray());

        var dataset = ImageDataset.FromCsv(csv);

        Assert.Equal(2, dataset.Count);
        Assert.Equal(["left", "right"], dataset.Classes);
    }

    [Theory]
    [InlineData("a.png,x,extra\n", 1, "expected 2 fields")]
    [InlineData("path,label\na.png\n", 2, "expected 2 fields")]
    [InlineData("a.png,x\n\"b.png,y\n", 2, "unterminated quoted field")]
    [InlineData("a.png,x\n,y\n", 2, "must not be empty")]
    public void FromCsv_MalformedRow_ThrowsWithFileAndLine(string content, int line, string expected)
    {
        using var tree = new TemporaryDirectory();
        tree.Write("a.png", TemporaryDirectory.Picture(1));
        var csv = tree.Write("bad.csv", System.Text.Encoding.UTF8.GetBytes(content));

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromCsv(csv));

        Assert.Contains($"{csv}:{line}:", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromCsv_MissingCsv_ThrowsDatasetException()
    {
        Assert.Throws<DatasetException>(() => ImageDataset.FromCsv("/nonexistent/list.csv"));
    }
}
