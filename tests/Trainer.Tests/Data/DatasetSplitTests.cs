using OnnxTrainer.Data;
using Xunit;

namespace OnnxTrainer.Tests.Data;

public sealed class DatasetSplitTests
{
    [Fact]
    public void SplitStratified_Fraction_SplitsEachClassProportionallyAndDisjointly()
    {
        // Arrange: class a has 10 images, b has 20, c has 1.
        using var tree = new TemporaryDirectory();
        WriteClass(tree, "a", 10);
        WriteClass(tree, "b", 20);
        WriteClass(tree, "c", 1);
        var dataset = ImageDataset.FromFolder(tree.Root);

        // Act
        var (train, validation) = dataset.SplitStratified(0.2, seed: 7);

        // Assert
        Assert.Equal([8, 16, 1], train.ClassCounts);
        Assert.Equal([2, 4, 0], validation.ClassCounts);
        Assert.Equal(dataset.Classes, validation.Classes);
        Assert.Empty(train.Samples.Intersect(validation.Samples));
        Assert.Equal(dataset.Samples.OrderBy(s => s.Source, StringComparer.Ordinal), train.Samples.Concat(validation.Samples).OrderBy(s => s.Source, StringComparer.Ordinal));
    }

    [Fact]
    public void SplitStratified_SameSeed_SameSplit_OtherSeed_OtherSplit()
    {
        using var tree = new TemporaryDirectory();
        WriteClass(tree, "a", 30);
        WriteClass(tree, "b", 30);
        var dataset = ImageDataset.FromFolder(tree.Root);

        var first = dataset.SplitStratified(0.3, seed: 1).Validation.Samples;
        var again = dataset.SplitStratified(0.3, seed: 1).Validation.Samples;
        var other = dataset.SplitStratified(0.3, seed: 2).Validation.Samples;

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void AlignTo_ValidationWithSubsetOfClasses_RelabelsByName()
    {
        using var trainTree = new TemporaryDirectory();
        WriteClass(trainTree, "ant", 1);
        WriteClass(trainTree, "bee", 1);
        WriteClass(trainTree, "cat", 1);
        using var validationTree = new TemporaryDirectory();
        WriteClass(validationTree, "cat", 2);
        var train = ImageDataset.FromFolder(trainTree.Root);

        var validation = ImageDataset.FromFolder(validationTree.Root).AlignTo(train);

        Assert.Equal(train.Classes, validation.Classes);
        Assert.All(validation.Samples, s => Assert.Equal(2, s.Label));
        Assert.Equal([0, 0, 2], validation.ClassCounts);
    }

    [Fact]
    public void AlignTo_ValidationClassUnknownToTraining_Throws()
    {
        using var trainTree = new TemporaryDirectory();
        WriteClass(trainTree, "ant", 1);
        using var validationTree = new TemporaryDirectory();
        WriteClass(validationTree, "ant", 1);
        WriteClass(validationTree, "wasp", 1);
        var train = ImageDataset.FromFolder(trainTree.Root);
        var validation = ImageDataset.FromFolder(validationTree.Root);

        var error = Assert.Throws<DatasetException>(() => validation.AlignTo(train));

        Assert.Contains("'wasp'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassWeights_Imbalanced_InverseFrequency()
    {
        using var tree = new TemporaryDirectory();
        WriteClass(tree, "few", 1);
        WriteClass(tree, "many", 3);

        var weights = ImageDataset.FromFolder(tree.Root).ClassWeights();

        Assert.Equal([2f, 4f / 6f], weights);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void SplitStratified_FractionOutOfRange_Throws(double fraction)
    {
        using var tree = new TemporaryDirectory();
        WriteClass(tree, "a", 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => ImageDataset.FromFolder(tree.Root).SplitStratified(fraction, 0));
    }

    private static void WriteClass(TemporaryDirectory tree, string name, int count)
    {
        for (var i = 0; i < count; i++)
        {
            tree.Write($"{name}/{i:D3}.png", TemporaryDirectory.Picture(i, width: 8, height: 8));
        }
    }
}
