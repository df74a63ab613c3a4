using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

/// <summary>The driver: registry lookup, declared types, opset selection.</summary>
public sealed class ShapeInferenceTests
{
    [Fact]
    public void Run_UnknownOperator_ThrowsNamingNodeOpAndSupportedList()
    {
        var g = new ShapeTestGraph();
        g.Graph.AddNode("Foo", [g.Input("x", 3)], ["y"], name: "bar");

        var e = Assert.Throws<GraphException>(g.Run);

        Assert.StartsWith("no shape rule for op 'Foo' at node 'bar'; supported: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("Conv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NonStandardDomain_Throws()
    {
        var g = new ShapeTestGraph();
        g.Graph.AddNode("Relu", [g.Input("x", 3)], ["y"], name: "r", domain: "com.microsoft");

        var e = Assert.Throws<GraphException>(g.Run);
        Assert.Contains("'com.microsoft.Relu'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DeclaredShapeContradicted_ThrowsNamingNodeAndValue()
    {
        var g = new ShapeTestGraph();
        var relu = g.Graph.AddNode("Relu", [g.Input("x", 2, 3)], ["y"], name: "act");
        relu.Output().Type = new TensorType(DataType.Float, ShapeTestGraph.Dims(2, 4));

        var e = Assert.Throws<GraphException>(() => ShapeInference.Run(g.Graph, g.Opset));

        Assert.Contains("'act'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'y'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DeclaredElementTypeContradicted_Throws()
    {
        var g = new ShapeTestGraph();
        var relu = g.Graph.AddNode("Relu", [g.Input("x", 2)], ["y"]);
        relu.Output().Type = new TensorType(DataType.Int64, ShapeTestGraph.Dims(2));

        Assert.Throws<GraphException>(() => ShapeInference.Run(g.Graph, g.Opset));
    }

    [Fact]
    public void Run_DeclaredSymbolInferredKnown_RefinedToKnown()
    {
        var g = new ShapeTestGraph();
        var relu = g.Graph.AddNode("Relu", [g.Input("x", 2, 3)], ["y"]);
        relu.Output().Type = new TensorType(DataType.Float, ShapeTestGraph.Dims("batch", null));

        ShapeInference.Run(g.Graph, g.Opset);

        Assert.Equal("float[2, 3]", relu.Output().Type!.ToString());
    }

    [Fact]
    public void Run_DeclaredMorePrecise_KeptAndPropagated()
    {
        var g = new ShapeTestGraph();
        var reshape = g.Graph.AddNode("Reshape", [g.Input("x", "N", 12), g.Input("shape", DataType.Int64, 2)], ["y"]);
        reshape.Output().Type = new TensorType(DataType.Float, ShapeTestGraph.Dims("N", 12));
        var relu = g.Graph.AddNode("Relu", [reshape.Output()], ["z"]);

        ShapeInference.Run(g.Graph, g.Opset);

        Assert.Equal("float[N, 12]", reshape.Output().Type!.ToString());
        Assert.Equal("float[N, 12]", relu.Output().Type!.ToString());
    }

    [Theory]
    [InlineData(11L)]
    [InlineData(13L)]
    public void RunModel_OpsetFromModel_SelectsAxesForm(long opset)
    {
        var g = new ShapeTestGraph();
        var x = g.Input("x", 3);
        var unsqueeze = opset < 13
            ? g.Add("Unsqueeze", [x], Attribute.Of("axes", [0L]))
            : g.Add("Unsqueeze", [x, g.Ints("axes", 0)]);
        var model = new Model { Graph = g.Graph };
        model.Opsets[""] = opset;

        ShapeInference.Run(model);

        Assert.Equal("float[1, 3]", unsqueeze.Output().Type!.ToString());
    }

    [Fact]
    public void Run_MalformedAttribute_ThrowsGraphExceptionNamingNode()
    {
        var g = new ShapeTestGraph();
        g.Graph.AddNode("Conv", [g.Input("x", 1, 3, 8, 8), g.Weight("w", 4, 3, 3, 3)], ["y"], [Attribute.Of("strides", [1L])], name: "stem");

        var e = Assert.Throws<GraphException>(() => ShapeInference.Run(g.Graph, g.Opset));
        Assert.Contains("'stem'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_LongChain_TypesEveryNode()
    {
        var g = new ShapeTestGraph();
        Value current = g.Input("x", "N", 16);
        for (int i = 0; i < 1000; i++)
            current = g.Graph.AddNode(i % 2 == 0 ? "Relu" : "Neg", [current], [$"v{i}"]).Output();

        ShapeInference.Run(g.Graph, g.Opset);

        Assert.Equal("float[N, 16]", current.Type!.ToString());
    }
}
