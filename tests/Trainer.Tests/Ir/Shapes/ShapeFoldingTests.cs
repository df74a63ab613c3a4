using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

public sealed class ShapeFoldingTests
{
    [Fact]
    public void Run_KnownShapeChain_ReplacedByInitializer()
    {
        var g = new ShapeTestGraph();
        var x = g.Input("x", 2, 8, 4);
        var shape = g.Add("Shape", [x]);
        var first = g.Add("Gather", [shape.Output(), g.Ints("i", 0)]);
        var target = g.Add("Concat", [first.Output(), g.Ints("rest", -1)], Attribute.Of("axis", 0L));
        var reshape = g.Add("Reshape", [x, target.Output()]);
        g.Graph.Outputs.Add(reshape.Output());

        int folded = ShapeFolding.Run(g.Graph, g.Opset);

        Assert.Equal(3, folded);
        Assert.Equal([reshape], g.Graph.Nodes);
        Assert.Equal([2L, -1], reshape.Inputs[1]!.Initializer!.ToInt64s());
        Assert.Equal("float[2, 32]", reshape.Output().Type!.ToString());
        Assert.DoesNotContain(g.Graph.Initializers, v => v.Name is "i" or "rest");
    }

    [Fact]
    public void Run_FloatComputationOnConstants_NotFolded()
    {
        var g = new ShapeTestGraph();
        var scaled = g.Add("Mul", [g.Weight("w", 4), g.Graph.AddInitializer("two", Tensor.Scalar(2f))]);
        g.Graph.Outputs.Add(g.Add("Add", [g.Input("x", 4), scaled.Output()]).Output());

        Assert.Equal(0, ShapeFolding.Run(g.Graph, g.Opset));
        Assert.Equal(2, g.Graph.Nodes.Count);
    }

    [Fact]
    public void Run_SymbolicShape_NotFolded()
    {
        var g = new ShapeTestGraph();
        var x = g.Input("x", "N", 4);
        var shape = g.Add("Shape", [x]);
        g.Graph.Outputs.Add(g.Add("Reshape", [x, shape.Output()]).Output());

        Assert.Equal(0, ShapeFolding.Run(g.Graph, g.Opset));
        Assert.Equal(2, g.Graph.Nodes.Count);
    }

    [Fact]
    public void Run_ConstantGraphOutput_KeepsProducerAndName()
    {
        var g = new ShapeTestGraph();
        var shape = g.Add("Shape", [g.Input("x", 2, 3)]);
        g.Graph.Outputs.Add(shape.Output());

        Assert.Equal(0, ShapeFolding.Run(g.Graph, g.Opset));
        Assert.Same(shape, g.Graph.Outputs[0].Producer);
    }
}
