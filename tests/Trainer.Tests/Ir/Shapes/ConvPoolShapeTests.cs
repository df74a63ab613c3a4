using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

public sealed class ConvPoolShapeTests
{
    [Fact]
    public void Conv_SymbolicBatchStridesPads_KeepsBatchAndComputesWindows()
    {
        var g = new ShapeTestGraph();
        var conv = g.Add("Conv", [g.Input("x", "N", 3, 224, 224), g.Weight("w", 64, 3, 7, 7)],
            Attribute.Of("strides", [2L, 2L]), Attribute.Of("pads", [3L, 3L, 3L, 3L]));

        Assert.Equal("float[N, 64, 112, 112]", g.Infer(conv));
    }

    [Fact]
    public void Conv_AutoPadSameUpper_GivesCeilOfInputOverStride()
    {
        var g = new ShapeTestGraph();
        var conv = g.Add("Conv", [g.Input("x", 1, 3, 5, 5), g.Weight("w", 2, 3, 3, 3)],
            Attribute.Of("strides", [2L, 2L]), Attribute.Of("auto_pad", "SAME_UPPER"));

        Assert.Equal("float[1, 2, 3, 3]", g.Infer(conv));
    }

    [Fact]
    public void Conv_DepthwiseDilated_UsesEffectiveKernel()
    {
        var g = new ShapeTestGraph();
        var conv = g.Add("Conv", [g.Input("x", "N", 8, 10, 10), g.Weight("w", 8, 1, 3, 3)],
            Attribute.Of("group", 8L), Attribute.Of("dilations", [2L, 2L]));

        Assert.Equal("float[N, 8, 6, 6]", g.Infer(conv));
    }

    [Fact]
    public void ConvTranspose_StrideTwoWithOutputPadding_DoublesSize()
    {
        var g = new ShapeTestGraph();
        var deconv = g.Add("ConvTranspose", [g.Input("x", "N", 4, 5, 5), g.Weight("w", 4, 2, 3, 3)],
            Attribute.Of("strides", [2L, 2L]), Attribute.Of("pads", [1L, 1L, 1L, 1L]), Attribute.Of("output_padding", [1L, 1L]));

        Assert.Equal("float[N, 2, 10, 10]", g.Infer(deconv));
    }

    [Theory]
    [InlineData(0L, "float[1, 1, 15, 15]")]
    [InlineData(1L, "float[1, 1, 16, 16]")]
    public void MaxPool_CeilMode_RoundsWindowCountUp(long ceilMode, string expected)
    {
        var g = new ShapeTestGraph();
        var pool = g.Add("MaxPool", [g.Input("x", 1, 1, 32, 32)],
            Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("strides", [2L, 2L]), Attribute.Of("ceil_mode", ceilMode));

        Assert.Equal(expected, g.Infer(pool));
    }

    [Fact]
    public void MaxPool_CeilModeWindowStartingInEndPadding_IsDropped()
    {
        var g = new ShapeTestGraph();
        var pool = g.Add("MaxPool", [g.Input("x", 1, 1, 7, 7)], Attribute.Of("kernel_shape", [2L, 2L]),
            Attribute.Of("strides", [2L, 2L]), Attribute.Of("pads", [1L, 1L, 1L, 1L]), Attribute.Of("ceil_mode", 1L));

        Assert.Equal("float[1, 1, 4, 4]", g.Infer(pool));
    }

    [Fact]
    public void MaxPool_DilationsAndIndicesOutput_IndicesAreInt64()
    {
        var g = new ShapeTestGraph();
        var pool = g.Add("MaxPool", [g.Input("x", "N", 3, 9, 9)], 2,
            Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("dilations", [2L, 2L]));

        Assert.Equal("float[N, 3, 5, 5]", g.Infer(pool));
        Assert.Equal("int64[N, 3, 5, 5]", g.Infer(pool, 1));
    }

    [Fact]
    public void AveragePool_AutoPadSameUpper_GivesCeilOfInputOverStride()
    {
        var g = new ShapeTestGraph();
        var pool = g.Add("AveragePool", [g.Input("x", "N", 3, 7, 7)],
            Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("strides", [2L, 2L]), Attribute.Of("auto_pad", "SAME_UPPER"));

        Assert.Equal("float[N, 3, 4, 4]", g.Infer(pool));
    }

    [Fact]
    public void GlobalAveragePool_SymbolicBatch_ReducesSpatialToOne()
    {
        var g = new ShapeTestGraph();
        var pool = g.Add("GlobalAveragePool", [g.Input("x", "N", 512, 7, 7)]);

        Assert.Equal("float[N, 512, 1, 1]", g.Infer(pool));
    }

    [Fact]
    public void BatchNormalization_TrainingMode_RunningStatsArePerChannel()
    {
        var g = new ShapeTestGraph(15);
        var bn = g.Add("BatchNormalization", [g.Input("x", "N", 16, 8, 8), g.Weight("s", 16), g.Weight("b", 16), g.Weight("m", 16), g.Weight("v", 16)], 3,
            Attribute.Of("training_mode", 1L));

        Assert.Equal("float[N, 16, 8, 8]", g.Infer(bn));
        Assert.Equal("float[16]", g.Infer(bn, 1));
        Assert.Equal("float[16]", g.Infer(bn, 2));
    }

    [Fact]
    public void LayerNormalization_NegativeAxis_StatsKeepLeadingAxes()
    {
        var g = new ShapeTestGraph();
        var ln = g.Add("LayerNormalization", [g.Input("x", "N", 7, 7, 96), g.Weight("s", 96), g.Weight("b", 96)], 3, Attribute.Of("axis", -1L));

        Assert.Equal("float[N, 7, 7, 96]", g.Infer(ln));
        Assert.Equal("float[N, 7, 7, 1]", g.Infer(ln, 1));
    }

    [Fact]
    public void Dropout_MaskOutput_IsBool()
    {
        var g = new ShapeTestGraph();
        var dropout = g.Add("Dropout", [g.Input("x", "N", 10)], 2);

        Assert.Equal("bool[N, 10]", g.Infer(dropout, 1));
    }
}
