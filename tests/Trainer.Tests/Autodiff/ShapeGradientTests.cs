using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// These ops only move data, so the loss is linear in their inputs: central differences are exact up to
// float64 rounding (~1e-10), and 1e-6 relative / 1e-8 absolute is a safe bound.
public class ShapeGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;

    [Theory]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 6, 4 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 0, -1 })]
    [InlineData(new long[] { 24 }, new long[] { 2, 1, 3, 4 })]
    public void Reshape_MatchesNumerical(long[] shape, long[] target)
    {
        var check = new GradientCheck();
        var x = check.Input("x", shape);
        check.Verify(check.Builder.Reshape(x, target), Rtol, Atol);
    }

    [Fact]
    public void Reshape_ConstantShape_GetsNoGradientAndGraphRuns()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 4]);
        var shape = check.Graph.AddInitializer("target_shape", Tensor.Vector(4, 6));
        check.Verify(check.Builder.Op("Reshape", [x, shape]), Rtol, Atol);

        // Only the forward Reshape reads the constant shape; no gradient was built for it.
        Assert.Single(shape.Users);
        Assert.False(check.Graph.Contains("target_shape_grad"));
        Assert.DoesNotContain(check.Graph.Outputs, o => o.Name.StartsWith("target_shape", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(-1L)]
    public void Flatten_MatchesNumerical(long axis)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 2, 2]);
        check.Verify(check.Builder.Op("Flatten", [x], Attribute.Of("axis", axis)), Rtol, Atol);
    }

    [Theory]
    [InlineData(new long[] { 2, 1, 3, 1 }, new long[] { 1 })]
    [InlineData(new long[] { 2, 1, 3, 1 }, new long[] { -1, 1 })]
    [InlineData(new long[] { 1, 3, 1 }, new long[0])]
    public void Squeeze_MatchesNumerical(long[] shape, long[] axes)
    {
        var check = new GradientCheck();
        var x = check.Input("x", shape);
        var b = check.Builder;
        check.Verify(axes.Length == 0 ? b.Op("Squeeze", [x]) : b.Squeeze(x, axes), Rtol, Atol);
    }

    [Theory]
    [InlineData(new long[] { 0 })]
    [InlineData(new long[] { -1 })]
    [InlineData(new long[] { 1, -1 })]
    public void Unsqueeze_MatchesNumerical(long[] axes)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3]);
        check.Verify(check.Builder.Unsqueeze(x, axes), Rtol, Atol);
    }

    [Theory]
    [InlineData(new long[] { 3, 1 }, new long[] { 2, 3, 4 })]
    [InlineData(new long[] { 1, 4 }, new long[] { 3, 1 })]
    [InlineData(new long[] { 2, 3 }, new long[] { 2, 3 })]
    [InlineData(new long[0], new long[] { 2, 3 })]
    [InlineData(new long[] { 2, 1, 3 }, new long[] { 2, 1, 4, 1 })]
    public void Expand_Broadcasting_MatchesNumerical(long[] shape, long[] target)
    {
        var check = new GradientCheck();
        var x = check.Input("x", shape);
        var b = check.Builder;
        check.Verify(b.Op("Expand", [x, b.Ints(target)]), Rtol, Atol);
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 0, 2, 1 })]
    [InlineData(new long[] { 1, 2, 0 })]
    [InlineData(new long[] { 2, 0, 1 })]
    [InlineData(new long[] { 0, 1, 2 })]
    public void Transpose_MatchesNumerical(long[] perm)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 4]);
        var b = check.Builder;
        check.Verify(perm.Length == 0 ? b.Op("Transpose", [x]) : b.Transpose(x, perm), Rtol, Atol);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(0L)]
    public void Concat_ThreeInputs_MatchesNumericalWithOneSplit(long axis)
    {
        var check = new GradientCheck();
        long[] Shape(long extent) => axis switch { 0 => [extent, 3, 2], 1 => [2, extent, 2], _ => [2, 3, extent] };
        var a = check.Input("a", Shape(1));
        var frozen = check.FixedInput("frozen", Shape(2));
        var c = check.Input("c", Shape(3));
        var y = check.Builder.Op("Concat", [a, frozen, c], Attribute.Of("axis", axis));
        check.Verify(y, Rtol, Atol);

        var backward = check.Graph.Nodes.Where(n => n.Name.Contains("_grad", StringComparison.Ordinal)).ToList();
        Assert.Single(backward, n => n.OpType == "Split");
        Assert.DoesNotContain(backward, n => n.OpType == "Slice");
    }

    [Fact]
    public void Concat_WithConstantInput_MatchesNumerical()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3]);
        var k = check.Constant("k", [2, 2], check.RandomData([2, 2]));
        check.Verify(check.Builder.Op("Concat", [k, x], Attribute.Of("axis", 1L)), Rtol, Atol);
    }

    public static TheoryData<long, long, long[]?, int, bool> SplitCases => new()
    {
        // opset, axis, split sizes (null: equal split), outputs, use every output
        { 17, 1, [1, 3, 2], 3, true },
        { 17, -1, [2, 2], 2, true },
        { 17, 0, null, 2, true },
        { 17, 1, [1, 3, 2], 3, false },
        { 18, 1, null, 3, true },
        { 18, 2, null, 2, false },
        { 11, 1, [4, 2], 2, true },
        { 11, 1, null, 2, false },
    };

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void Split_MatchesNumerical(long opset, long axis, long[]? sizes, int outputs, bool useAll)
    {
        var check = new GradientCheck(opset: opset);
        var x = check.Input("x", [2, 6, 4]);
        var b = check.Builder;
        var attributes = new List<Attribute> { Attribute.Of("axis", axis) };
        var inputs = new List<Value?> { x };
        if (sizes is not null && opset >= 13) inputs.Add(b.Ints(sizes));
        else if (sizes is not null) attributes.Add(Attribute.Of("split", sizes));
        else if (opset >= 18) attributes.Add(Attribute.Of("num_outputs", (long)outputs));

        var pieces = b.OpN("Split", inputs, outputs, [.. attributes]);
        // Leaving the middle output unused exercises the zero gradient for outputs nobody reads.
        check.Verify(useAll ? pieces : [.. pieces.Where((_, i) => i != 1)], Rtol, Atol);
    }
}
