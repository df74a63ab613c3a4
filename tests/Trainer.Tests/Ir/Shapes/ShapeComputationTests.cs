using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

/// <summary>Constant evaluation of the small integer tensors that compute shapes.</summary>
public sealed class ShapeComputationTests
{
    /// <summary>The values inference computed for output 0 of <paramref name="node"/>, as text ("?" for unknown).</summary>
    private static string ValueOf(ShapeTestGraph g, Node node)
    {
        var data = ShapeInference.Infer(g.Graph, g.Opset);
        return data.TryGetValue(node.Output(), out var v)
            ? string.Join(",", v.Elements.Select(e => e.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? e.Symbol ?? "?"))
            : "none";
    }

    [Fact]
    public void ShapeGatherUnsqueezeConcat_SymbolicBatch_ReshapeTargetKnown()
    {
        var g = new ShapeTestGraph();
        var x = g.Input("x", "N", 8, 4, 4);
        var shape = g.Add("Shape", [x]);
        var batch = g.Add("Gather", [shape.Output(), g.Graph.AddInitializer("zero", Tensor.Scalar(0L))]);
        var unsqueeze = g.Add("Unsqueeze", [batch.Output(), g.Ints("axes", 0)]);
        var target = g.Add("Concat", [unsqueeze.Output(), g.Ints("rest", -1)], Attribute.Of("axis", 0L));
        var reshape = g.Add("Reshape", [x, target.Output()]);

        Assert.Equal("float[N, 128]", g.Infer(reshape));
        Assert.Equal("N,-1", ValueOf(g, target));
    }

    [Fact]
    public void Shape_StartEnd_SelectsDimensions()
    {
        var g = new ShapeTestGraph(15);
        var shape = g.Add("Shape", [g.Input("x", "N", 3, 224, 224)], Attribute.Of("start", 1L), Attribute.Of("end", -1L));

        Assert.Equal("int64[2]", g.Infer(shape));
        Assert.Equal("3,224", ValueOf(g, shape));
    }

    [Fact]
    public void Arithmetic_OnShapeValues_IsComputed()
    {
        var g = new ShapeTestGraph();
        var x = g.Input("x", 2, 6, 10);
        var shape = g.Add("Shape", [x]);
        var half = g.Add("Div", [shape.Output(), g.Ints("two", 2)]);
        var sum = g.Add("Add", [half.Output(), g.Ints("one", 1)]);
        var product = g.Add("Mul", [sum.Output(), g.Ints("three", 3)]);
        var difference = g.Add("Sub", [product.Output(), g.Ints("offsets", 0, 1, 2)]);

        Assert.Equal("6,11,16", ValueOf(g, difference));
    }

    [Fact]
    public void EqualWhere_OnShapeValues_SelectsElements()
    {
        var g = new ShapeTestGraph();
        var target = g.Ints("target", 0, 5, 0);
        var isZero = g.Add("Equal", [target, g.Ints("zero", 0)]);
        var where = g.Add("Where", [isZero.Output(), g.Ints("dims", 7, 8, 9), target]);

        Assert.Equal("7,5,9", ValueOf(g, where));
    }

    [Fact]
    public void SliceCastSqueeze_OnShapeValues_AreComputed()
    {
        var g = new ShapeTestGraph();
        var shape = g.Add("Shape", [g.Input("x", "N", 3, 5, 7)]);
        var tail = g.Add("Slice", [shape.Output(), g.Ints("s", -1), g.Ints("e", -4), g.Ints("a", 0), g.Ints("st", -2)]);
        var cast = g.Add("Cast", [tail.Output()], Attribute.Of("to", (long)DataType.Int32));

        Assert.Equal("7,3", ValueOf(g, cast));
        Assert.Equal("int32[2]", g.Infer(cast));
    }

    [Fact]
    public void ConstantOfShape_KnownShape_TypedByValueAttribute()
    {
        var g = new ShapeTestGraph();
        var fill = g.Add("ConstantOfShape", [g.Ints("shape", 2, 3)], Attribute.Of("value", Tensor.FromInt64s([1], [4])));

        Assert.Equal("int64[2, 3]", g.Infer(fill));
        Assert.Equal("4,4,4,4,4,4", ValueOf(g, fill));
    }

    [Fact]
    public void ConstantOfShape_SymbolicShape_GivesSymbolicDims()
    {
        var g = new ShapeTestGraph();
        var shape = g.Add("Shape", [g.Input("x", "N", 3)]);
        var fill = g.Add("ConstantOfShape", [shape.Output()]);

        Assert.Equal("float[N, 3]", g.Infer(fill));
    }

    [Fact]
    public void Range_IntegerBounds_ComputesValues()
    {
        var g = new ShapeTestGraph();
        var range = g.Add("Range", [g.Graph.AddInitializer("s", Tensor.Scalar(10L)), g.Graph.AddInitializer("l", Tensor.Scalar(1L)), g.Graph.AddInitializer("d", Tensor.Scalar(-3L))]);

        Assert.Equal("int64[3]", g.Infer(range));
        Assert.Equal("10,7,4", ValueOf(g, range));
    }

    [Fact]
    public void Range_FloatBounds_ComputesLength()
    {
        var g = new ShapeTestGraph();
        var range = g.Add("Range", [g.Graph.AddInitializer("s", Tensor.Scalar(0f)), g.Graph.AddInitializer("l", Tensor.Scalar(2.5f)), g.Graph.AddInitializer("d", Tensor.Scalar(0.5f))]);

        Assert.Equal("float[5]", g.Infer(range));
    }

    [Theory]
    [InlineData("value_ints", "int64[3]")]
    [InlineData("value_float", "float[]")]
    [InlineData("value_string", "string[]")]
    public void Constant_ValueForms_GiveTypes(string attribute, string expected)
    {
        var g = new ShapeTestGraph();
        var value = attribute switch
        {
            "value_ints" => Attribute.Of(attribute, [1L, 2L, 3L]),
            "value_float" => Attribute.Of(attribute, 1.5f),
            _ => Attribute.Of(attribute, "text"),
        };
        var constant = g.Add("Constant", [], value);

        Assert.Equal(expected, g.Infer(constant));
    }

    [Fact]
    public void Size_KnownShape_ComputesCount()
    {
        var g = new ShapeTestGraph();
        var size = g.Add("Size", [g.Input("x", 2, 3, 4)]);

        Assert.Equal("int64[]", g.Infer(size));
        Assert.Equal("24", ValueOf(g, size));
    }

    [Fact]
    public void Evaluation_LargeIntegerTensor_IsNotTracked()
    {
        var g = new ShapeTestGraph();
        var fill = g.Add("ConstantOfShape", [g.Ints("shape", 64, 64)], Attribute.Of("value", Tensor.FromInt64s([1], [1])));

        Assert.Equal("int64[64, 64]", g.Infer(fill));
        Assert.Equal("none", ValueOf(g, fill));
    }
}
