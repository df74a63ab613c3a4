using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

public sealed class ReduceShapeTests
{
    [Fact]
    public void ReduceMean_Opset13AxesAttributeKeepDims_KeepsUnitAxes()
    {
        var g = new ShapeTestGraph(13);
        var reduce = g.Add("ReduceMean", [g.Input("x", "N", 64, 7, 7)], Attribute.Of("axes", [-2L, -1L]));

        Assert.Equal("float[N, 64, 1, 1]", g.Infer(reduce));
    }

    [Fact]
    public void ReduceMean_Opset18AxesInputNoKeepDims_DropsAxes()
    {
        var g = new ShapeTestGraph(18);
        var reduce = g.Add("ReduceMean", [g.Input("x", "N", 64, 7, 7), g.Ints("axes", 2, 3)], Attribute.Of("keepdims", 0L));

        Assert.Equal("float[N, 64]", g.Infer(reduce));
    }

    [Fact]
    public void ReduceSum_Opset13NoAxes_ReducesAll()
    {
        var g = new ShapeTestGraph(13);
        var reduce = g.Add("ReduceSum", [g.Input("x", "N", 3)], Attribute.Of("keepdims", 0L));

        Assert.Equal("float[]", g.Infer(reduce));
    }

    [Fact]
    public void ReduceSum_EmptyAxesWithNoop_IsIdentity()
    {
        var g = new ShapeTestGraph(13);
        var reduce = g.Add("ReduceSum", [g.Input("x", "N", 3), g.Ints("axes")], Attribute.Of("noop_with_empty_axes", 1L));

        Assert.Equal("float[N, 3]", g.Infer(reduce));
    }

    [Fact]
    public void ReduceMax_Opset13AxesAttribute_NotReadFromInput()
    {
        var g = new ShapeTestGraph(13);
        var reduce = g.Add("ReduceMax", [g.Input("x", "N", 3, 5)], Attribute.Of("axes", [1L]), Attribute.Of("keepdims", 0L));

        Assert.Equal("float[N, 5]", g.Infer(reduce));
    }

    [Fact]
    public void ReduceL2_AxesInputUnknownKeepDims_KnowsRank()
    {
        var g = new ShapeTestGraph(18);
        var reduce = g.Add("ReduceL2", [g.Input("x", "N", 3), g.Input("axes", DataType.Int64, 1)]);

        Assert.Equal("float[?, ?]", g.Infer(reduce));
    }
}
