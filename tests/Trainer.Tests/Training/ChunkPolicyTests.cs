using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Training;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Training;

public class ChunkPolicyTests
{
    /// <summary>x [N, 3, 10, 10] -> Conv 3x3 (8 channels, padded) -> GlobalAveragePool -> Flatten -> Gemm (5 classes).</summary>
    private static Graph ConvThenGemm()
    {
        var graph = new Graph();
        var b = new GraphBuilder(graph, 17, "t");
        var x = graph.AddInput("x", new TensorType(DataType.Float, [Dim.Named("N"), Dim.Known(3), Dim.Known(10), Dim.Known(10)]));
        var conv = b.Op("Conv", [x, graph.AddInput("conv.weight", TensorType.Of(DataType.Float, 8, 3, 3, 3))], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }));
        var features = b.Op("Flatten", [b.Op("GlobalAveragePool", [conv])]);
        graph.Outputs.Add(b.Op("Gemm", [features, graph.AddInput("fc.weight", TensorType.Of(DataType.Float, 5, 8))], Attribute.Of("transB", 1L)));
        ShapeInference.Run(graph, 17);
        return graph;
    }

    [Fact]
    public void PositionsPerImage_WeightedByEachLayersMultiplyAdds()
    {
        var graph = ConvThenGemm();
        // The Conv does 216 x 100 multiply-adds per image over 100 output positions, the Gemm 40 over 1.
        Assert.Equal((21600.0 * 100 + 40 * 1) / (21600 + 40), ChunkPolicy.PositionsPerImage(graph, ["conv.weight", "fc.weight"]), 9);
        Assert.Equal(100, ChunkPolicy.PositionsPerImage(graph, ["conv.weight"]), 9);
        Assert.Equal(1, ChunkPolicy.PositionsPerImage(graph, ["fc.weight"]), 9);
        Assert.Equal(0, ChunkPolicy.PositionsPerImage(graph, []), 9);
    }

    [Theory]
    [InlineData(1849, 16, 2, 2)] // ResNet-18 full at 224 px, batch 16: 14,800 positions per chunk of 8
    [InlineData(49, 32, 2, 1)] // its last block at batch 32: 1,568 for the whole batch
    [InlineData(49, 64, 2, 2)] // and at batch 64
    [InlineData(403, 64, 2, 2)] // the 32 px backbone, full, batch 64
    [InlineData(403, 64, 16, 16)] // the same on 16 threads: 1,612 per chunk of 4
    [InlineData(403, 32, 16, 12)] // at batch 32 the positions bound it: 12 chunks of 2-3 images
    [InlineData(1, 64, 2, 1)] // a linear head
    [InlineData(1849, 1, 2, 1)] // one image
    public void Chunks_MostThatKeepTheMinimumPositionsPerChunk(double positions, int batch, int threads, int expected)
    {
        Assert.Equal(expected, ChunkPolicy.Chunks(new ExecutionOptions(Threads: threads), batchStatistics: false, positions, batch));
    }

    [Fact]
    public void Chunks_OneForBatchStatistics_TheOptionsCountOtherwise()
    {
        Assert.Equal(1, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4), batchStatistics: true, 1849, 64));
        Assert.Equal(3, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4, Chunks: 3), batchStatistics: false, 1, 64));
        Assert.Equal(1, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4, Chunks: 3), batchStatistics: true, 1849, 64));
    }
}
