using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

public sealed class ElementwiseShapeTests
{
    [Fact]
    public void Add_SymbolicAndKnownDims_Broadcast()
    {
        var g = new ShapeTestGraph();
        var add = g.Add("Add", [g.Input("a", "N", 3, 1, 5), g.Input("b", 4, 1)]);

        Assert.Equal("float[N, 3, 4, 5]", g.Infer(add));
    }

    [Fact]
    public void Mul_SymbolAgainstKnownSize_TakesKnownSize()
    {
        var g = new ShapeTestGraph();
        var mul = g.Add("Mul", [g.Input("a", "N", 8), g.Input("b", 2, 8)]);

        Assert.Equal("float[2, 8]", g.Infer(mul));
    }

    [Fact]
    public void Sub_IncompatibleSizes_ThrowsNamingNode()
    {
        var g = new ShapeTestGraph();
        g.Add("Sub", [g.Input("a", 3, 4), g.Input("b", 5)]);

        var e = Assert.Throws<GraphException>(g.Run);
        Assert.Contains("Sub", e.Message, StringComparison.Ordinal);
        Assert.Contains("4 and 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Equal_Comparison_IsBool()
    {
        var g = new ShapeTestGraph();
        var eq = g.Add("Equal", [g.Input("a", DataType.Int64, "N", 1), g.Input("b", DataType.Int64, 6)]);

        Assert.Equal("bool[N, 6]", g.Infer(eq));
    }

    [Fact]
    public void Where_ThreeWayBroadcast_TypedLikeX()
    {
        var g = new ShapeTestGraph();
        var where = g.Add("Where", [g.Input("c", DataType.Bool, 4, 1), g.Input("x", DataType.Int32, 1, 5), g.Input("y", DataType.Int32)]);

        Assert.Equal("int32[4, 5]", g.Infer(where));
    }

    [Fact]
    public void Max_Variadic_BroadcastsAll()
    {
        var g = new ShapeTestGraph();
        var max = g.Add("Max", [g.Input("a", 3, 1, 1), g.Input("b", 1, 4, 1), g.Input("c", 5)]);

        Assert.Equal("float[3, 4, 5]", g.Infer(max));
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Erf")]
    [InlineData("Softmax")]
    [InlineData("Reciprocal")]
    public void Unary_SymbolicShape_IsPreserved(string op)
    {
        var g = new ShapeTestGraph();
        var node = g.Add(op, [g.Input("x", "N", null, 7)]);

        Assert.Equal("float[N, ?, 7]", g.Infer(node));
    }

    [Fact]
    public void Cast_ToInt64_ChangesElementTypeOnly()
    {
        var g = new ShapeTestGraph();
        var cast = g.Add("Cast", [g.Input("x", "N", 3)], Attribute.Of("to", (long)DataType.Int64));

        Assert.Equal("int64[N, 3]", g.Infer(cast));
    }

    [Theory]
    [InlineData(new object[] { "N", 1, 4, 5 }, new object[] { 3, 5, 6 }, "float[N, 3, 4, 6]")]
    [InlineData(new object[] { 5 }, new object[] { "N", 5, 6 }, "float[N, 6]")]
    [InlineData(new object[] { "N", 4, 5 }, new object[] { 5 }, "float[N, 4]")]
    [InlineData(new object[] { 5 }, new object[] { 5 }, "float[]")]
    public void MatMul_BatchedBroadcastAndVectors_FollowsNumpy(object[] a, object[] b, string expected)
    {
        var g = new ShapeTestGraph();
        var matmul = g.Add("MatMul", [g.Input("a", a), g.Input("b", b)]);

        Assert.Equal(expected, g.Infer(matmul));
    }

    [Fact]
    public void MatMul_InnerSizesDiffer_Throws()
    {
        var g = new ShapeTestGraph();
        g.Add("MatMul", [g.Input("a", 2, 3), g.Input("b", 4, 5)]);

        Assert.Throws<GraphException>(g.Run);
    }

    [Fact]
    public void Gemm_TransB_GivesBatchByOutFeatures()
    {
        var g = new ShapeTestGraph();
        var gemm = g.Add("Gemm", [g.Input("x", "N", 512), g.Weight("w", 10, 512), g.Weight("b", 10)], Attribute.Of("transB", 1L));

        Assert.Equal("float[N, 10]", g.Infer(gemm));
    }

    [Fact]
    public void Expand_ShapeWithOnes_BroadcastsWithInput()
    {
        var g = new ShapeTestGraph();
        var expand = g.Add("Expand", [g.Input("x", 3, 1), g.Ints("shape", 2, 1, 4)]);

        Assert.Equal("float[2, 3, 4]", g.Infer(expand));
    }

    [Fact]
    public void SoftmaxCrossEntropyLoss_ReductionNone_DropsClassAxis()
    {
        var g = new ShapeTestGraph();
        var loss = g.Add("SoftmaxCrossEntropyLoss", [g.Input("scores", "N", 10, 4), g.Input("labels", DataType.Int64, "N", 4)], 2,
            Attribute.Of("reduction", "none"));

        Assert.Equal("float[N, 4]", g.Infer(loss));
        Assert.Equal("float[N, 10, 4]", g.Infer(loss, 1));
    }

    [Fact]
    public void NegativeLogLikelihoodLoss_MeanReduction_IsScalar()
    {
        var g = new ShapeTestGraph();
        var loss = g.Add("NegativeLogLikelihoodLoss", [g.Input("scores", "N", 10), g.Input("labels", DataType.Int64, "N")]);

        Assert.Equal("float[]", g.Infer(loss));
    }

    [Fact]
    public void OneHot_NegativeAxis_InsertsDepthAxis()
    {
        var g = new ShapeTestGraph();
        var oneHot = g.Add("OneHot", [g.Input("i", DataType.Int64, "N"), g.Ints("depth", 10), g.Weight("values", 2)]);

        Assert.Equal("float[N, 10]", g.Infer(oneHot));
    }
}
