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
    public void WeightReuse_ConvPositionsAndGemmOnce_WeightedBySize()
    {
        var graph = ConvThenGemm();
        // The Conv's 216 weights are used at 100 output positions per image, the Gemm's 40 once.
        Assert.Equal((216 * 100 + 40 * 1) / 256.0, ChunkPolicy.WeightReuse(graph, ["conv.weight", "fc.weight"]), 9);
        Assert.Equal(100, ChunkPolicy.WeightReuse(graph, ["conv.weight"]), 9);
        Assert.Equal(1, ChunkPolicy.WeightReuse(graph, ["fc.weight"]), 9);
        Assert.Equal(0, ChunkPolicy.WeightReuse(graph, []), 9);
    }

    [Theory]
    [InlineData(155.3, 16, 2, 2)] // ResNet-18 full, batch 16: 1242 uses per chunk of 8
    [InlineData(46.2, 16, 2, 1)] // its last block: 370 per chunk, 740 for the whole batch
    [InlineData(46.2, 64, 2, 2)]
    [InlineData(52.7, 64, 16, 6)] // the 32 px backbone at batch 64 on 16 threads: 562 per chunk of 10-11
    [InlineData(1, 64, 2, 1)] // a linear head
    [InlineData(155.3, 1, 2, 1)] // one image
    public void Chunks_MostThatKeepTheMinimumUsesPerChunk(double reuse, int batch, int threads, int expected)
    {
        Assert.Equal(expected, ChunkPolicy.Chunks(new ExecutionOptions(Threads: threads), batchStatistics: false, reuse, batch));
    }

    [Fact]
    public void Chunks_OneForBatchStatistics_TheOptionsCountOtherwise()
    {
        Assert.Equal(1, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4), batchStatistics: true, 155.3, 64));
        Assert.Equal(3, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4, Chunks: 3), batchStatistics: false, 1, 64));
        Assert.Equal(1, ChunkPolicy.Chunks(new ExecutionOptions(Threads: 4, Chunks: 3), batchStatistics: true, 155.3, 64));
    }
}
