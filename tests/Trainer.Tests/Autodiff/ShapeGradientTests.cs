using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
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

    /// <summary>
    /// A symbolic batch must not need static shapes: the rules read extents at run time where they must
    /// (Concat along the batch, Gather with the batch after the gathered axis). With loss = sum of all outputs,
    /// d loss / d x[i] is the number of times x[i] appears in them; feeding x[i] = i makes that countable.
    /// </summary>
    [Theory]
    [InlineData(2L)]
    [InlineData(3L)]
    public void SymbolicBatch_GradientsCountUses(long batch)
    {
        var model = new Model();
        var graph = model.Graph;
        var b = new GraphBuilder(graph, 17, "test");
        static TensorType T(params object[] dims) =>
            new(DataType.Double, [.. dims.Select(d => d is string s ? Dim.Named(s) : Dim.Known(Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)))]);
        Value Typed(Value v, TensorType t) { v.Type = t; return v; }

        var x = graph.AddInput("x", T("N", 4, 6));
        var transposed = Typed(b.Transpose(x, 0, 2, 1), T("N", 6, 4));
        var sliced = Typed(b.Slice(transposed, [0, 5], [long.MaxValue, -100], [0, 1], [1, -2]), T("N", 3, 4));
        var gathered = Typed(b.Op("Gather", [sliced, graph.AddInitializer("i1", Tensor.FromInt64s([2, 2], [0, 2, 2, 2]))], Attribute.Of("axis", 1L)), T("N", 2, 2, 4));
        var batchSecond = Typed(b.Transpose(gathered, 1, 0, 2, 3), T(2, "N", 2, 4));
        var gatheredFirst = Typed(b.Op("Gather", [batchSecond, graph.AddInitializer("i0", Tensor.FromInt64s([1, 2], [1, 1]))], Attribute.Of("axis", 0L)), T(1, 2, "N", 2, 4));
        // Many repeats along an axis before the batch: the one-hot MatMul and ScatterElements paths.
        var repeated = Typed(b.Op("Gather", [batchSecond, graph.AddInitializer("i2", Tensor.Vector(1, 1, 1, 1, 1, 0))], Attribute.Of("axis", 0L)), T(6, "N", 2, 4));
        var scattered = Typed(b.Op("Gather", [batchSecond, graph.AddInitializer("i3", Tensor.Vector([.. Enumerable.Range(0, 300).Select(i => i % 2L)]))], Attribute.Of("axis", 0L)), T(300, "N", 2, 4));
        var concatenated = Typed(b.Op("Concat", [x, x], Attribute.Of("axis", 0L)), T("M", 4, 6));
        var expanded = Typed(b.Op("Expand", [Typed(b.Unsqueeze(x, 1), T("N", 1, 4, 6)), b.Ints(1, 2, 1, 1)]), T("N", 2, 4, 6));
        var flattened = Typed(b.Op("Flatten", [x], Attribute.Of("axis", 2L)), T("N*4", 6));
        Value[] outputs = [gatheredFirst, repeated, scattered, concatenated, expanded, flattened];
        var loss = Typed(b.Sum([.. outputs.Select(o => Typed(b.ReduceSum(o, [.. Enumerable.Range(0, o.Type!.Rank!.Value).Select(a => (long)a)], keepDims: false), T()))]), T());
        graph.Outputs.AddRange(outputs);
        graph.Outputs.Add(loss);

        GradientBuilder.Build(graph, 17, loss, [x], TrainingContract.Gradient);

        var data = Enumerable.Range(0, (int)(batch * 24)).Select(i => (double)i).ToArray();
        using var runner = new OrtRunner(model);
        var results = runner.Run(new Dictionary<string, (DataType, long[], double[])> { ["x"] = (DataType.Double, [batch, 4, 6], data) });
        var expected = new double[data.Length];
        foreach (var (values, _) in results.Take(outputs.Length))
            foreach (var v in values) expected[(int)v]++;
        var (gradient, shape) = results[^1];
        Assert.Equal([batch, 4, 6], shape);
        Assert.Equal(expected, gradient);
        Assert.Contains(graph.Nodes, n => n.OpType == "ScatterElements");
        Assert.Contains(graph.Nodes, n => n.OpType == "MatMul");
    }
}
