using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using Xunit;

namespace OnnxTrainer.Tests.Data;

public sealed class DataLoaderTests : IDisposable
{
    private static readonly PreprocessingSpec Spec = PreprocessingSpec.ImageNet(inputSize: 24, resize: 28);

    private static readonly AugmentationOptions AllAugmentations = new()
    {
        RandomResizedCrop = true,
        HorizontalFlip = 0.5,
        RotationDegrees = 10,
        Brightness = 0.3,
        Contrast = 0.3,
        Saturation = 0.3,
    };

    private readonly TemporaryDirectory _tree = new();
    private readonly ImageDataset _dataset;

    public DataLoaderTests()
    {
        // 10 images in 3 classes, mixed sizes, formats and channels.
        for (var i = 0; i < 10; i++)
        {
            var bytes = (i % 3) switch
            {
                0 => TemporaryDirectory.Picture(i, width: 40 + i, height: 30),
                1 => TemporaryDirectory.Picture(i, SkiaSharp.SKEncodedImageFormat.Jpeg, width: 30, height: 50, grayscale: true),
                _ => TemporaryDirectory.Picture(i, width: 33, height: 33, alpha: true),
            };
            _tree.Write($"class{i % 3}/{i}.{((i % 3) == 1 ? "jpg" : "png")}", bytes);
        }

        _dataset = ImageDataset.FromFolder(_tree.Root);
    }

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(false, new[] { 4, 4, 2 })]
    [InlineData(true, new[] { 4, 4 })]
    public void ReadEpoch_LastPartialBatch_KeptOrDropped(bool dropLast, int[] expectedSizes)
    {
        var loader = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 4, DropLast = dropLast });

        var batches = loader.ReadEpoch(0).ToList();

        Assert.Equal(expectedSizes, batches.Select(b => b.Count));
        Assert.All(batches, b =>
        {
            Assert.Equal(new long[] { b.Count, 3, 24, 24 }, b.Shape);
            Assert.Equal(b.Count * 3 * 24 * 24, b.Images.Length);
            Assert.Equal(b.SampleIndices.Select(i => (long)_dataset.Samples[i].Label), b.Labels);
        });
        Assert.Equal(expectedSizes.Length, loader.BatchesPerEpoch);
    }

    [Fact]
    public void ReadEpoch_WithoutAugmentation_EqualsServingPreprocessing()
    {
        var loader = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 10 });
        var preprocessor = new ImagePreprocessor(Spec);

        var batch = Assert.Single(loader.ReadEpoch(0));

        Assert.Equal(Enumerable.Range(0, 10), batch.SampleIndices);
        for (var i = 0; i < batch.Count; i++)
        {
            var expected = new float[Spec.TensorLength];
            preprocessor.Preprocess(ImageDecoder.DecodeFile(_dataset.Samples[i].Source, ChannelFormat.Rgb), expected);
            Assert.Equal(expected, batch.Images.AsSpan(i * Spec.TensorLength, Spec.TensorLength).ToArray());
        }
    }

    [Fact]
    public void ReadEpoch_SameSeedAndEpoch_IdenticalBatchesWhateverTheParallelism()
    {
        var serial = new DataLoader(_dataset, Spec, Training(seed: 5) with { DecodeParallelism = 1 });
        var parallel = new DataLoader(_dataset, Spec, Training(seed: 5) with { DecodeParallelism = 4, PrefetchBatches = 1 });

        var first = Flatten(serial.ReadEpoch(3));
        var second = Flatten(parallel.ReadEpoch(3));

        Assert.Equal(first.Indices, second.Indices);
        Assert.Equal(first.Images, second.Images);
    }

    [Fact]
    public void ReadEpoch_DifferentEpoch_DifferentOrderAndDraws()
    {
        var loader = new DataLoader(_dataset, Spec, Training(seed: 5));

        var epoch0 = Flatten(loader.ReadEpoch(0));
        var epoch1 = Flatten(loader.ReadEpoch(1));

        Assert.NotEqual(epoch0.Indices, epoch1.Indices);
        var index = epoch0.Indices[0];
        Assert.NotEqual(epoch0.ImageOf(index), epoch1.ImageOf(index));
    }

    [Fact]
    public void ReadEpoch_DifferentSeed_DifferentDraws()
    {
        var a = Flatten(new DataLoader(_dataset, Spec, Training(seed: 1)).ReadEpoch(0));
        var b = Flatten(new DataLoader(_dataset, Spec, Training(seed: 2)).ReadEpoch(0));

        Assert.NotEqual(a.ImageOf(0), b.ImageOf(0));
    }

    [Fact]
    public void ReadEpoch_WithCache_SameBatchesAndCacheWithinBudget()
    {
        var uncached = new DataLoader(_dataset, Spec, Training(seed: 9));
        var cached = new DataLoader(_dataset, Spec, Training(seed: 9) with { CacheBudgetBytes = 10_000 });

        var warm = Flatten(cached.ReadEpoch(0));
        var fromCache = Flatten(cached.ReadEpoch(1));

        Assert.InRange(cached.CachedBytes, 1, 10_000);
        Assert.Equal(Flatten(uncached.ReadEpoch(0)).Images, warm.Images);
        Assert.Equal(Flatten(uncached.ReadEpoch(1)).Images, fromCache.Images);
    }

    [Fact]
    public void ReadEpoch_Shuffle_VisitsEverySampleOnce()
    {
        var loader = new DataLoader(_dataset, Spec, Training(seed: 3) with { BatchSize = 3 });

        var indices = Flatten(loader.ReadEpoch(0)).Indices;

        Assert.Equal(Enumerable.Range(0, 10), indices.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), indices);
    }

    [Fact]
    public void ReadEpoch_ConsumerStopsEarly_ReturnsAndCanReadAgain()
    {
        var loader = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 1, PrefetchBatches = 1 });

        var first = loader.ReadEpoch(0).First();
        var all = loader.ReadEpoch(0).ToList();

        Assert.Equal(first.Images, all[0].Images);
        Assert.Equal(10, all.Count);
    }

    [Fact]
    public void ReadEpoch_Cancelled_Throws()
    {
        var loader = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 1 });
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => loader.ReadEpoch(0, cancellationToken: cancellation.Token).ToList());
    }

    [Fact]
    public void ReadEpoch_SingleChannelModel_ProducesOnePlane()
    {
        var spec = new PreprocessingSpec { InputHeight = 20, InputWidth = 20, Resize = 20, Mean = [0.5f], Std = [0.5f], Channels = ChannelFormat.L };
        var loader = new DataLoader(_dataset, spec, Training(seed: 1));

        var batch = loader.ReadEpoch(0).First();

        Assert.Equal(new long[] { 4, 1, 20, 20 }, batch.Shape);
        Assert.All(batch.Images, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Constructor_InvalidAugmentation_Throws()
    {
        var options = new DataLoaderOptions { Augmentation = new AugmentationOptions { CropScale = (0.5, 2.0) } };

        Assert.Throws<ArgumentException>(() => new DataLoader(_dataset, Spec, options));
    }

    private static DataLoaderOptions Training(int seed) =>
        new() { BatchSize = 4, Shuffle = true, Seed = seed, Augmentation = AllAugmentations };

    private static Flattened Flatten(IEnumerable<DataBatch> batches)
    {
        var list = batches.ToList();
        return new Flattened(list.SelectMany(b => b.SampleIndices).ToArray(), list.SelectMany(b => b.Images).ToArray(), Spec.TensorLength);
    }

    private sealed record Flattened(int[] Indices, float[] Images, int Length)
    {
        public float[] ImageOf(int sampleIndex) => Images.AsSpan(Array.IndexOf(Indices, sampleIndex) * Length, Length).ToArray();
    }

    [Fact]
    public void HorizontalFlip_ProbabilityOne_MirrorsEveryImage()
    {
        var plain = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 10 }).ReadEpoch(0).Single();
        var flipped = new DataLoader(_dataset, Spec, new DataLoaderOptions { BatchSize = 10, Augmentation = new AugmentationOptions { HorizontalFlip = 1 } }).ReadEpoch(0).Single();

        const int side = 24;
        for (int plane = 0; plane < 10 * 3; plane++)
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    Assert.Equal(plain.Images[(plane * side + y) * side + x], flipped.Images[(plane * side + y) * side + side - 1 - x]);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void HorizontalFlip_ProbabilityOutsideUnitRange_Rejected(double probability) =>
        Assert.Throws<ArgumentException>(() => new AugmentationOptions { HorizontalFlip = probability }.Validate());

    /// <summary>The README allows any color_jitter >= 0 (factors from [max(0, 1 - x), 1 + x]); the loader used to refuse x > 1.</summary>
    [Fact]
    public void ColorJitter_AboveOneAsTheReadmeAllows_Accepted()
    {
        var recipe = Tests.Recipes.RecipeSamples.Parse(Tests.Recipes.RecipeSamples.Minimal.Replace("data: { train: { path: images } }",
            "data: { train: { path: images }, augment: { color_jitter: { brightness: 1.5, contrast: 2, saturation: 3 } } }", StringComparison.Ordinal));
        var jitter = recipe.Data.Augment.ColorJitter!;

        new AugmentationOptions { Brightness = jitter.Brightness, Contrast = jitter.Contrast, Saturation = jitter.Saturation }.Validate();

        Assert.Throws<ArgumentException>(() => new AugmentationOptions { Brightness = -0.5 }.Validate());
    }
}
