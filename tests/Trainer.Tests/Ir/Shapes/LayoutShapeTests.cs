using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

public sealed class LayoutShapeTests
{
    [Theory]
    [InlineData(1L, "float[N, 512]")]
    [InlineData(-1L, "float[?, 1]")]
    [InlineData(0L, "float[1, ?]")]
    public void Flatten_SymbolicBatch_MultipliesAroundAxis(long axis, string expected)
    {
        var g = new ShapeTestGraph();
        var flatten = g.Add("Flatten", [g.Input("x", "N", 512, 1, 1)], Attribute.Of("axis", axis));

        Assert.Equal(expected, g.Infer(flatten));
    }

    [Fact]
    public void Reshape_ZeroAndMinusOne_CopiesAndInfers()
    {
        var g = new ShapeTestGraph();
        var reshape = g.Add("Reshape", [g.Input("x", "N", 3, 4, 5), g.Ints("shape", 0, -1)]);

        Assert.Equal("float[N, 60]", g.Infer(reshape));
    }

    [Fact]
    public void Reshape_MinusOneCancelsSymbol_GivesSymbol()
    {
        var g = new ShapeTestGraph();
        var reshape = g.Add("Reshape", [g.Input("x", "N", 3, 4), g.Ints("shape", -1, 12)]);

        Assert.Equal("float[N, 12]", g.Infer(reshape));
    }

    [Theory]
    [InlineData(0L, "float[2, 4, 2]")]
    [InlineData(1L, "float[0, 4, 2]")]
    public void Reshape_AllowZero_KeepsLiteralZero(long allowZero, string expected)
    {
        var g = new ShapeTestGraph(14);
        var reshape = g.Add("Reshape", [g.Input("x", 2, 0, 4), g.Ints("shape", 0, 4, 2)], Attribute.Of("allowzero", allowZero));

        Assert.Equal(expected, g.Infer(reshape));
    }

    [Fact]
    public void Reshape_ShapeValuesUnknown_KnowsRankOnly()
    {
        var g = new ShapeTestGraph();
        var reshape = g.Add("Reshape", [g.Input("x", "N", 12), g.Input("shape", DataType.Int64, 3)]);

        Assert.Equal("float[?, ?, ?]", g.Infer(reshape));
    }

    [Theory]
    [InlineData("SpaceToDepth", "float[N, 48, 56, 28]")]
    [InlineData("DepthToSpace", "float[N, 3, 224, 112]")]
    public void BlockRearrange_SymbolicBatch_MovesBlocksBetweenChannelsAndSpace(string op, string expected)
    {
        var g = new ShapeTestGraph();
        var node = g.Add(op, [g.Input("x", "N", 12, 112, 56)], Attribute.Of("blocksize", 2L));

        Assert.Equal(expected, g.Infer(node));
    }

    [Fact]
    public void SpaceToDepth_IndivisibleDim_NamesIt()
    {
        var g = new ShapeTestGraph();
        g.Add("SpaceToDepth", [g.Input("x", 1, 3, 7, 8)], Attribute.Of("blocksize", 2L));

        var e = Assert.Throws<GraphException>(g.Run);
        Assert.Contains("7 is not divisible by 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reshape_IncompatibleCount_Throws()
    {
        var g = new ShapeTestGraph();
        g.Add("Reshape", [g.Input("x", 5, 3), g.Ints("shape", 4, -1)]);

        Assert.Throws<GraphException>(g.Run);
    }

    [Theory]
    [InlineData(new long[] { 0, 2, 3, 1 }, "float[N, 4, 5, 3]")]
    [InlineData(null, "float[5, 4, 3, N]")]
    public void Transpose_PermOrDefault_PermutesAxes(long[]? perm, string expected)
    {
        var g = new ShapeTestGraph();
        var transpose = perm is null ? g.Add("Transpose", [g.Input("x", "N", 3, 4, 5)])
            : g.Add("Transpose", [g.Input("x", "N", 3, 4, 5)], Attribute.Of("perm", perm));

        Assert.Equal(expected, g.Infer(transpose));
    }

    [Fact]
    public void Squeeze_Opset11NegativeAxisAttribute_RemovesAxis()
    {
        var g = new ShapeTestGraph(11);
        var squeeze = g.Add("Squeeze", [g.Input("x", "N", 1, 5, 1)], Attribute.Of("axes", [-1L]));

        Assert.Equal("float[N, 1, 5]", g.Infer(squeeze));
    }

    [Fact]
    public void Squeeze_Opset13AxesInput_RemovesAxes()
    {
        var g = new ShapeTestGraph(13);
        var squeeze = g.Add("Squeeze", [g.Input("x", "N", 1, 5, 1), g.Ints("axes", 1, -1)]);

        Assert.Equal("float[N, 5]", g.Infer(squeeze));
    }

    [Fact]
    public void Squeeze_NonUnitAxis_Throws()
    {
        var g = new ShapeTestGraph(13);
        g.Add("Squeeze", [g.Input("x", "N", 2), g.Ints("axes", 1)]);

        Assert.Throws<GraphException>(g.Run);
    }

    [Fact]
    public void Unsqueeze_Opset11Attribute_InsertsAtOutputPositions()
    {
        var g = new ShapeTestGraph(11);
        var unsqueeze = g.Add("Unsqueeze", [g.Input("x", 3, "N")], Attribute.Of("axes", [0L, -1L]));

        Assert.Equal("float[1, 3, N, 1]", g.Infer(unsqueeze));
    }

    [Fact]
    public void Unsqueeze_Opset13Input_InsertsAtOutputPositions()
    {
        var g = new ShapeTestGraph(13);
        var unsqueeze = g.Add("Unsqueeze", [g.Input("x", 3, "N"), g.Ints("axes", 1)]);

        Assert.Equal("float[3, 1, N]", g.Infer(unsqueeze));
    }

    [Fact]
    public void Concat_NegativeAxis_SumsSizes()
    {
        var g = new ShapeTestGraph();
        var concat = g.Add("Concat", [g.Input("a", "N", 3, 4), g.Input("b", "N", 5, 4)], Attribute.Of("axis", -2L));

        Assert.Equal("float[N, 8, 4]", g.Infer(concat));
    }

    [Fact]
    public void Split_Opset13SplitInput_GivesPartSizes()
    {
        var g = new ShapeTestGraph(13);
        var split = g.Add("Split", [g.Input("x", "N", 5), g.Ints("split", 2, 3)], 2, Attribute.Of("axis", 1L));

        Assert.Equal("float[N, 2]", g.Infer(split));
        Assert.Equal("float[N, 3]", g.Infer(split, 1));
    }

    [Fact]
    public void Split_Opset11NoSplit_GivesEqualParts()
    {
        var g = new ShapeTestGraph(11);
        var split = g.Add("Split", [g.Input("x", "N", 6)], 3, Attribute.Of("axis", -1L));

        Assert.Equal("float[N, 2]", g.Infer(split, 2));
    }

    [Fact]
    public void Split_Opset18NumOutputs_LastPartSmaller()
    {
        var g = new ShapeTestGraph(18);
        var split = g.Add("Split", [g.Input("x", 7)], 3, Attribute.Of("num_outputs", 3L));

        Assert.Equal("float[3]", g.Infer(split, 0));
        Assert.Equal("float[1]", g.Infer(split, 2));
    }

    [Fact]
    public void Slice_NegativeIndicesStepsAndClamping_FollowsSpec()
    {
        var g = new ShapeTestGraph();
        var slice = g.Add("Slice", [g.Input("x", "N", 10, 20), g.Ints("starts", 1, -5), g.Ints("ends", 100, 1000), g.Ints("axes", 1, -1), g.Ints("steps", 2, 1)]);

        Assert.Equal("float[N, 5, 5]", g.Infer(slice));
    }

    [Fact]
    public void Slice_NegativeStepWholeAxis_KeepsSize()
    {
        var g = new ShapeTestGraph();
        var slice = g.Add("Slice", [g.Input("x", 10), g.Ints("starts", -1), g.Ints("ends", long.MinValue), g.Ints("axes", 0), g.Ints("steps", -1)]);

        Assert.Equal("float[10]", g.Infer(slice));
    }

    [Fact]
    public void Slice_StartBeyondEnd_IsEmpty()
    {
        var g = new ShapeTestGraph();
        var slice = g.Add("Slice", [g.Input("x", 10), g.Ints("starts", 20), g.Ints("ends", 30)]);

        Assert.Equal("float[0]", g.Infer(slice));
    }

    [Fact]
    public void Slice_Opset1Attributes_SlicesAxes()
    {
        var g = new ShapeTestGraph(1);
        var slice = g.Add("Slice", [g.Input("x", 4, 10)],
            Attribute.Of("starts", [0L, 2L]), Attribute.Of("ends", [2L, -1L]), Attribute.Of("axes", [0L, 1L]));

        Assert.Equal("float[2, 7]", g.Infer(slice));
    }

    [Fact]
    public void Slice_WholeSymbolicAxis_KeepsSymbol()
    {
        var g = new ShapeTestGraph();
        var slice = g.Add("Slice", [g.Input("x", "N", 10), g.Ints("starts", 0, 3), g.Ints("ends", long.MaxValue, 5)]);

        Assert.Equal("float[N, 2]", g.Infer(slice));
    }

    [Fact]
    public void Gather_MatrixIndices_ReplaceAxis()
    {
        var g = new ShapeTestGraph();
        var gather = g.Add("Gather", [g.Input("x", "N", 5, 6), g.Input("i", DataType.Int64, 2, 3)], Attribute.Of("axis", 1L));

        Assert.Equal("float[N, 2, 3, 6]", g.Infer(gather));
    }

    [Fact]
    public void Gather_ScalarIndex_DropsAxis()
    {
        var g = new ShapeTestGraph();
        var gather = g.Add("Gather", [g.Input("x", "N", 5, 6), g.Graph.AddInitializer("i", Tensor.Scalar(-1L))], Attribute.Of("axis", -1L));

        Assert.Equal("float[N, 5]", g.Infer(gather));
    }

    [Fact]
    public void Pad_Opset11PadsInput_GrowsAxes()
    {
        var g = new ShapeTestGraph(11);
        var pad = g.Add("Pad", [g.Input("x", "N", 3, 4, 4), g.Ints("pads", 0, 0, 1, 2, 0, 0, 1, 2)]);

        Assert.Equal("float[N, 3, 6, 8]", g.Infer(pad));
    }

    [Fact]
    public void Pad_Opset2PadsAttribute_GrowsAxes()
    {
        var g = new ShapeTestGraph(2);
        var pad = g.Add("Pad", [g.Input("x", 3, 4)], Attribute.Of("pads", [1L, 0L, 1L, 3L]));

        Assert.Equal("float[5, 7]", g.Infer(pad));
    }

    [Fact]
    public void Tile_Repeats_MultiplySizes()
    {
        var g = new ShapeTestGraph();
        var tile = g.Add("Tile", [g.Input("x", "N", 3), g.Ints("repeats", 1, 4)]);

        Assert.Equal("float[N, 12]", g.Infer(tile));
    }
}
