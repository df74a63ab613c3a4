using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Recipes;
using OnnxTrainer.Tests.Fixtures;
using OnnxTrainer.Training;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Training;

public class MemoryEstimateTests
{
    /// <summary>x [N, 3, 10, 10] -> Conv 3x3 (8 channels, padded) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (5 classes).</summary>
    private static Graph ConvReluGemm()
    {
        var graph = new Graph();
        var b = new GraphBuilder(graph, 17, "t");
        var x = graph.AddInput("x", new TensorType(DataType.Float, [Dim.Named("N"), Dim.Known(3), Dim.Known(10), Dim.Known(10)]));
        var conv = b.Op("Conv", [x, graph.AddInitializer("conv.weight", Tensor.FromFloats([8, 3, 3, 3], new float[216]))], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var features = b.Op("Flatten", [b.Op("GlobalAveragePool", [b.Op("Relu", [conv])])]);
        graph.Outputs.Add(b.Op("Gemm", [features, graph.AddInitializer("fc.weight", Tensor.FromFloats([5, 8], new float[40]))], Attribute.Of("transB", 1L)));
        ShapeInference.Run(graph, 17);
        return graph;
    }

    [Fact]
    public void Of_EveryLayerTraining_KeepsEveryActivation()
    {
        var estimate = MemoryEstimate.Of(ConvReluGemm(), ["conv.weight", "fc.weight"], batchSize: 32);

        Assert.Equal((216 + 40) * 4, estimate.ParameterBytes);
        Assert.Equal((216 + 40) * 4, estimate.TrainableBytes);
        // Per image: Conv and Relu 8x10x10, the pool and Flatten 8, the Gemm 5 floats.
        Assert.Equal((800 + 800 + 8 + 8 + 5) * 4, estimate.ActivationBytesPerImage);
        Assert.Equal(0, estimate.FrozenBytesPerImage);
    }

    [Fact]
    public void Of_HeadTraining_KeepsTheHeadsActivationsAndTheFrozenPartsLargestLayer()
    {
        var estimate = MemoryEstimate.Of(ConvReluGemm(), ["fc.weight"], batchSize: 32);

        Assert.Equal(40 * 4, estimate.TrainableBytes);
        Assert.Equal(5 * 4, estimate.ActivationBytesPerImage);
        // The Relu holds its 8x10x10 input and output at once (the Conv 3x10x10 + 8x10x10, its weight not per image).
        Assert.Equal((800 + 800) * 4, estimate.FrozenBytesPerImage);
    }

    [Fact]
    public void PeakBytes_CalibratedModel_GrowsWithTheBatchByTheKeptActivations()
    {
        var small = MemoryEstimate.Of(ConvReluGemm(), ["conv.weight", "fc.weight"], batchSize: 16);
        var large = small with { BatchSize = 64 };

        Assert.Equal(MemoryEstimate.RuntimeBytes + (long)(MemoryEstimate.ParameterFactor * 1024 + MemoryEstimate.TrainableFactor * 1024
            + 16 * MemoryEstimate.ActivationFactor * small.ActivationBytesPerImage), small.PeakBytes);
        Assert.Equal((long)(48 * MemoryEstimate.ActivationFactor * small.ActivationBytesPerImage), large.PeakBytes - small.PeakBytes, tolerance: 1);
    }

    [Fact]
    public void EnsureFits_PeakAboveTheAvailable_OneLineWithTheEstimateAndTheSource()
    {
        var estimate = MemoryEstimate.Of(ConvReluGemm(), ["conv.weight", "fc.weight"], batchSize: 16);

        estimate.EnsureFits(new AvailableMemory(estimate.PeakBytes, "MemAvailable")); // exactly enough
        var e = Assert.Throws<MemoryBudgetException>(() => estimate.EnsureFits(new AvailableMemory(estimate.PeakBytes - 1, "cgroup limit")));

        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("training would need about 0.2 GiB at its peak (estimated: 0.0 MiB of parameters", e.Message);
        Assert.Contains("x batch 16), more than the 0.2 GiB available (cgroup limit)", e.Message);
    }

    /// <summary>
    /// The shipped quickstart (ImageNet ResNet-18 at 224 px, preprocessing graph in front) against peaks of <c>train</c>
    /// measured on it (VmHWM, one epoch; BENCHMARKS.md, "Training memory"): fully fine-tuned, and as shipped (feature extraction).
    /// </summary>
    [Theory]
    [InlineData("fine-tune", 16, 1996)]
    [InlineData("fine-tune", 32, 2612)]
    [InlineData("fine-tune", 64, 3922)]
    [InlineData("feature-extraction", 16, 584)]
    [InlineData("feature-extraction", 64, 915)]
    public void Of_Quickstart_WithinFivePercentOfTheMeasuredPeak(string strategy, int batch, int measuredMiB)
    {
        _ = SetupFixtures.ImageNetResNet18;
        var recipe = RecipeLoader.Load(RepositoryPaths.Of("recipes/quickstart.yaml"), [$"strategy={strategy}", $"batch_size={batch}"]);

        var estimate = MemoryEstimate.Of(RunSetup.Prepare(recipe));

        Assert.InRange(estimate.PeakBytes / (double)((long)measuredMiB << 20), 0.95, 1.05);
    }
}
