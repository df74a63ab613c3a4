using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// Slice, Gather and Where select or place data, so the loss is linear in their differentiable inputs:
// central differences are exact up to float64 rounding, and 1e-6 relative / 1e-8 absolute is a safe bound.
public class IndexingGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;

    public static TheoryData<long[], long[], long[]?, long[]?> SliceCases => new()
    {
        // starts, ends, axes (null: leading axes), steps (null: ones); input is [4, 5, 6]
        { [1], [3], null, null },
        { [-3, 1], [100, -1], [-1, 1], null },            // negative start and axes, end clamped
        { [0, 2, 1], [4, 5, 6], [0, 1, 2], [2, 1, 2] },    // steps 2
        { [1], [long.MaxValue], [2], [3] },                 // step 3 to the end
        { [-1], [long.MinValue], [1], [-1] },               // full reverse
        { [5, 4], [0, -100], [2, 0], [-2, -3] },            // negative steps, clamped end
        { [10], [2], [2], [-2] },                           // start clamped to the last element
        { [2, 0], [2, 6], [0, 2], [1, 1] },                 // empty along axis 0
    };

    [Theory]
    [MemberData(nameof(SliceCases))]
    public void Slice_MatchesNumerical(long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [4, 5, 6]);
        var b = check.Builder;
        var inputs = new List<Value?> { x, b.Ints(starts), b.Ints(ends), axes is null ? null : b.Ints(axes) };
        if (steps is not null) inputs.Add(b.Ints(steps));
        var y = b.Op("Slice", inputs);
        // An empty slice leaves nothing to weigh in the loss; feed its gradient through a second use instead.
        check.Verify(starts is [2, 0] ? [y, b.Exp(x)] : [y], Rtol, Atol);
    }

    [Fact]
    public void Slice_UnitSteps_IsOnePad()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [4, 5, 6]);
        var b = check.Builder;
        var y = b.Slice(x, [1, -4], [3, 100], [0, 2]);
        check.Verify(y, Rtol, Atol);

        Assert.Equal(["Pad"], BackwardOps(check, y));
    }

    public static TheoryData<long, long[], long[], long> GatherCases => new()
    {
        // axis, index dims (empty: scalar), indices, opset
        { 0, [], [2], 17 },
        { 1, [], [-1], 17 },
        { -1, [], [0], 17 },
        { 1, [3], [4, 0, 2], 17 },            // distinct, unordered
        { 1, [2], [1, 2], 17 },               // contiguous run
        { 0, [2], [-1, 0], 17 },              // negative index
        { 2, [2, 2], [5, -6, 3, 1], 17 },     // 2-D indices on the last axis
        { 1, [4], [1, 3, 1, 1], 17 },         // duplicates accumulate
        { 2, [2, 3], [0, 5, 0, 5, 5, 2], 17 },
        { 0, [3], [3, 3, 0], 17 },
        { 1, [4], [1, 3, 1, 1], 13 },         // and before opset 16
        { -1, [2, 2], [0, -1, 0, 5], 13 },
        { 0, [2, 2], [1, 1, 2, 2], 13 },
    };

    [Theory]
    [MemberData(nameof(GatherCases))]
    public void Gather_ConstantIndices_MatchesNumerical(long axis, long[] indexDims, long[] indices, long opset)
    {
        var check = new GradientCheck(opset: opset);
        var x = check.Input("x", [4, 5, 6]);
        var index = check.Graph.AddInitializer("indices", Tensor.FromInt64s(indexDims, indices));
        check.Verify(check.Builder.Op("Gather", [x, index], Attribute.Of("axis", axis)), Rtol, Atol);
    }

    [Fact]
    public void GatherAndSlice_ParametersFromConstantNodes_MatchesNumerical()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [4, 5, 6]);
        var b = check.Builder;
        Value Const(Tensor t) => b.Op("Constant", [], Attribute.Of("value", t));
        var gathered = b.Op("Gather", [x, Const(Tensor.Vector(3, 0, 3))], Attribute.Of("axis", 2L));
        var sliced = b.Op("Slice", [gathered, Const(Tensor.Vector(-1)), Const(Tensor.Vector(-10)), Const(Tensor.Vector(1)), Const(Tensor.Vector(-2))]);
        check.Verify(sliced, Rtol, Atol);
    }

    public static TheoryData<long, long[], long, long[], string> GatherFormulationCases => new()
    {
        // opset, input shape, axis, indices, the op that must place the gradient
        { 17, [3, 4], 1, [2, 0, 2, 2], "MatMul" },                                   // innermost axis: one-hot MatMul
        { 17, [3, 4], 0, [2, 0, 2, 2], "Gather" },                                   // few repeats: a Gather per occurrence
        { 17, [3, 4], 0, [1, 1, 1, 1, 1, 0], "MatMul" },                             // many repeats, few indices: one-hot MatMul
        { 17, [2, 3, 2], 1, [.. Enumerable.Range(0, 300).Select(i => i % 3L)], "ScatterElements" },
        { 13, [2, 3, 2], 1, [.. Enumerable.Range(0, 300).Select(i => i % 3L)], "MatMul" },
    };

    [Theory]
    [MemberData(nameof(GatherFormulationCases))]
    public void Gather_DuplicateIndices_AccumulateWithChosenFormulation(long opset, long[] shape, long axis, long[] indices, string expectedOp)
    {
        var check = new GradientCheck(opset: opset);
        var x = check.Input("x", shape);
        var index = check.Graph.AddInitializer("indices", Tensor.Vector(indices));
        var y = check.Builder.Op("Gather", [x, index], Attribute.Of("axis", axis));
        check.Verify(y, Rtol, Atol);
        Assert.Contains(expectedOp, BackwardOps(check, y));
    }

    [Theory]
    [InlineData(2L, "MatMul")]
    [InlineData(1L, "Gather")]
    public void Slice_Step2_PlacesWithChosenFormulation(long axis, string expectedOp)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [4, 5, 6]);
        var y = check.Builder.Slice(x, [1], [100], [axis], [2]);
        check.Verify(y, Rtol, Atol);
        Assert.Contains(expectedOp, BackwardOps(check, y));
        Assert.DoesNotContain("Slice", BackwardOps(check, y));
    }

    private static List<string> BackwardOps(GradientCheck check, Value forward) =>
        [.. check.Graph.Nodes.Where(n => n.Name.StartsWith(forward.Producer!.Name + "_grad/", StringComparison.Ordinal)).Select(n => n.OpType)];

    public static TheoryData<long[], long[], long[]> WhereCases => new()
    {
        // condition, x, y shapes
        { [2, 3, 4], [2, 3, 4], [2, 3, 4] },
        { [2, 3, 4], [3, 1], [] },
        { [1, 3, 1], [2, 1, 4], [4] },
        { [4], [2, 3, 1], [2, 3, 4] },
    };

    [Theory]
    [MemberData(nameof(WhereCases))]
    public void Where_Broadcasting_MatchesNumerical(long[] conditionShape, long[] xShape, long[] yShape)
    {
        var check = new GradientCheck();
        var b = check.Builder;
        var condition = b.Op("Greater", [check.FixedInput("c", conditionShape), b.Scalar(0, DataType.Double)]);
        var x = check.Input("x", xShape);
        var y = check.Input("y", yShape);
        check.Verify(b.Op("Where", [condition, x, y]), Rtol, Atol);
    }

    [Fact]
    public void Where_OnlyOneBranchTrainable_MatchesNumerical()
    {
        var check = new GradientCheck();
        var b = check.Builder;
        var condition = b.Op("Greater", [check.FixedInput("c", [2, 3]), b.Scalar(0, DataType.Double)]);
        var x = check.Input("x", [2, 3]);
        var y = check.Constant("y", [2, 3], check.RandomData([2, 3]));
        check.Verify(b.Op("Where", [condition, x, y]), Rtol, Atol);
    }
}
