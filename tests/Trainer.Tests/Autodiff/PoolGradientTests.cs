using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// MaxPool and Pad run in float64: central differences with eps 1e-6
// are accurate to ~1e-9, so 1e-6 relative is safe (random inputs have no ties within eps of a window max).
// MaxPool's stride phases (MaxPoolPhases) have float32-only kernels; they are checked in float32 on distinct
// values spaced wider than 2 eps, so no window's maximum changes within a central difference.
// Not covered: a ceil_mode window that would start in the end padding. ONNX Runtime's kernel drops it (as
// PyTorch does and as PoolGeometry assumes) but its load-time shape inference keeps it, so any model
// that states the pooled shape downstream (like the checker's loss) fails to load.
// AveragePool, GlobalAveragePool and GlobalMaxPool have float32-only kernels in ONNX Runtime: eps 1e-3 on a float32 forward leaves ~1e-4
// rounding noise in the numerical derivative, hence rtol 1e-3 and atol 2e-4 (the rule itself is linear).
public class PoolGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;
    private const double FloatRtol = 1e-3, FloatAtol = 2e-4, FloatEpsilon = 1e-3;

    public static TheoryData<string, long[], long[], long[], long[], long[], long, string> MaxPoolCases => new()
    {
        // name, input shape, kernel, strides, pads, dilations, ceil_mode, auto_pad
        { "non-overlapping", [2, 3, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], 0, "NOTSET" },
        { "resnet stem 3x3 s2 p1", [2, 3, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 0, "NOTSET" },
        { "asymmetric kernel and pads", [1, 2, 7, 8], [3, 2], [2, 1], [1, 0, 0, 1], [1, 1], 0, "NOTSET" },
        { "stride 1 overlapping", [1, 2, 5, 5], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, "NOTSET" },
        { "dilated", [1, 2, 8, 8], [3, 3], [1, 1], [0, 0, 0, 0], [2, 2], 0, "NOTSET" },
        { "ceil_mode partial windows", [1, 2, 8, 8], [3, 3], [2, 2], [0, 0, 0, 0], [1, 1], 1, "NOTSET" },
        { "ceil_mode with end pads", [1, 2, 8, 7], [3, 2], [2, 2], [1, 0, 1, 1], [1, 1], 1, "NOTSET" },
        { "kernel smaller than stride", [1, 2, 9, 9], [2, 2], [3, 3], [0, 0, 0, 0], [1, 1], 0, "NOTSET" },
        { "SAME_UPPER", [1, 2, 7, 7], [3, 3], [2, 2], [], [1, 1], 0, "SAME_UPPER" },
        { "SAME_LOWER", [1, 2, 7, 7], [2, 2], [1, 1], [], [1, 1], 0, "SAME_LOWER" },
        { "VALID", [1, 2, 7, 6], [3, 2], [2, 2], [], [1, 1], 0, "VALID" },
        { "1-D overlapping", [2, 3, 9], [3], [2], [1, 1], [1], 0, "NOTSET" },
        { "1-D ceil_mode", [1, 2, 10], [3], [3], [0, 0], [1], 1, "NOTSET" },
    };

    [Theory]
    [MemberData(nameof(MaxPoolCases))]
    public void MaxPool_MatchesNumerical(string name, long[] shape, long[] kernel, long[] strides, long[] pads, long[] dilations, long ceil, string autoPad)
    {
        _ = name;
        var check = new GradientCheck();
        var x = check.Input("x", shape);
        check.Verify(check.Builder.Op("MaxPool", [x], PoolAttributes(kernel, strides, pads, dilations, ceil, autoPad)), Rtol, Atol);
    }

    public static TheoryData<string, long[], long[], long, long[], long, string, long> MaxPoolPhaseCases => new()
    {
        // name, input shape, kernel, stride (both axes), pads, ceil_mode, auto_pad, opset
        { "resnet stem 3x3 p1", [2, 3, 8, 10], [3, 3], 2, [1, 1, 1, 1], 0, "NOTSET", 17 },
        { "2x2 tiling", [2, 3, 6, 6], [2, 2], 2, [0, 0, 0, 0], 0, "NOTSET", 17 },
        { "ceil_mode partial windows", [1, 2, 8, 8], [3, 3], 2, [0, 0, 0, 0], 1, "NOTSET", 17 },
        { "asymmetric kernel and pads, ceil_mode", [1, 2, 8, 8], [3, 2], 2, [0, 1, 1, 0], 1, "NOTSET", 17 },
        { "5x5 p2", [1, 2, 10, 8], [5, 5], 2, [2, 2, 2, 2], 0, "NOTSET", 17 },
        { "1x1: odd phases get nothing", [1, 2, 4, 6], [1, 1], 2, [0, 0, 0, 0], 0, "NOTSET", 17 },
        { "SAME_UPPER", [1, 2, 8, 8], [3, 3], 2, [], 0, "SAME_UPPER", 17 },
        { "opset 18 Split", [2, 3, 8, 8], [3, 3], 2, [1, 1, 1, 1], 0, "NOTSET", 18 },
        { "odd dims 3x3 p1", [2, 3, 7, 9], [3, 3], 2, [1, 1, 1, 1], 0, "NOTSET", 17 },
        { "odd dims, SqueezeNet's ceil_mode", [1, 2, 9, 7], [3, 3], 2, [0, 0, 0, 0], 1, "NOTSET", 17 },
        { "odd and even, 2x2 floor drops the last row", [1, 2, 7, 6], [2, 2], 2, [0, 0, 0, 0], 0, "NOTSET", 17 },
        { "stride 1, Inception's 3x3 p1", [2, 3, 6, 7], [3, 3], 1, [1, 1, 1, 1], 0, "NOTSET", 17 },
        { "stride 1, 2x2 without pads", [1, 2, 5, 6], [2, 2], 1, [0, 0, 0, 0], 0, "NOTSET", 17 },
        { "stride 1, SAME_LOWER 2x3", [1, 2, 6, 7], [2, 3], 1, [], 0, "SAME_LOWER", 17 },
    };

    [Theory]
    [MemberData(nameof(MaxPoolPhaseCases))]
    public void MaxPool_StridePhases_MatchesNumerical(string name, long[] shape, long[] kernel, long stride, long[] pads, long ceil, string autoPad, long opset)
    {
        _ = name;
        var check = new GradientCheck(DataType.Float, opset);
        var x = check.Input("x", shape, DistinctValues(shape, seed: 5));
        var y = check.Builder.Op("MaxPool", [x], PoolAttributes(kernel, [stride, stride], pads, null, ceil, autoPad));
        check.Verify(y, FloatRtol, FloatAtol, FloatEpsilon);
        Assert.Single(y.Producer!.Outputs);
        Assert.DoesNotContain(check.Graph.Nodes, n => n.OpType == "ScatterElements");
    }

    [Fact]
    public void MaxPool_ForwardOutputsIndices_ReusesThem()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 7, 7]);
        var outputs = check.Builder.OpN("MaxPool", [x], 2, Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("strides", [2L, 2L]));
        check.Verify(outputs[0], Rtol, Atol);
        Assert.Single(check.Graph.Nodes, n => n.OpType == "MaxPool");
    }

    [Theory]
    [InlineData(0L, 1)]
    [InlineData(1L, 2)]
    public void MaxPool_ForwardWithoutIndices_OutputsThemUnlessColumnMajor(long storageOrder, int maxPools)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 7, 7]);
        var y = check.Builder.Op("MaxPool", [x], Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("strides", [2L, 2L]),
            Attribute.Of("pads", [1L, 1L, 1L, 1L]), Attribute.Of("storage_order", storageOrder));
        check.Verify(y, Rtol, Atol);
        var forward = y.Producer!;
        Assert.Equal(maxPools, check.Graph.Nodes.Count(n => n.OpType == "MaxPool"));
        Assert.Equal(storageOrder == 0 ? 2 : 1, forward.Outputs.Count);
    }

    [Theory]
    [InlineData(false, DataType.Double, 2L)]
    [InlineData(true, DataType.Double, 2L)]
    [InlineData(false, DataType.Float, 2L)]
    [InlineData(true, DataType.Float, 2L)]
    [InlineData(true, DataType.Float, 1L)]
    public void MaxPool_Ties_GradientGoesToFirstMaximum(bool ceilWithPads, DataType type, long stride)
    {
        // Values from {0, 1, 2} make most windows tied; the reference walks each window in row-major
        // order and keeps the first maximum (ONNX Runtime's and PyTorch's choice). Double takes the
        // Indices and their scatter, float the stride phases.
        long[] shape = [2, 2, 6, 7];
        long[] kernel = [3, 3], strides = [stride, stride];
        long[] pads = ceilWithPads ? [1, 0, 1, 1] : [0, 0, 0, 0];
        var random = new Random(7);
        var data = Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => (double)random.Next(3)).ToArray();
        var attributes = PoolAttributes(kernel, strides, pads, [1, 1], ceilWithPads ? 1 : 0, "NOTSET");

        var outShape = OutShape(shape, kernel, strides, pads, ceilWithPads);
        var (gradient, weights) = ExactGradient(shape, data, b => b.Op("MaxPool", [b.Graph["x"]], attributes), outShape, type);

        var expected = new double[data.Length];
        for (long n = 0; n < shape[0]; n++)
        for (long ch = 0; ch < shape[1]; ch++)
        for (long oh = 0; oh < outShape[2]; oh++)
        for (long ow = 0; ow < outShape[3]; ow++)
        {
            long best = -1;
            for (long h = oh * strides[0] - pads[0]; h < oh * strides[0] - pads[0] + kernel[0]; h++)
            for (long w = ow * strides[1] - pads[1]; w < ow * strides[1] - pads[1] + kernel[1]; w++)
            {
                if (h < 0 || h >= shape[2] || w < 0 || w >= shape[3]) continue;
                long at = ((n * shape[1] + ch) * shape[2] + h) * shape[3] + w;
                if (best < 0 || data[at] > data[best]) best = at;
            }
            expected[best] += weights[((n * outShape[1] + ch) * outShape[2] + oh) * outShape[3] + ow];
        }
        Assert.Equal(expected, gradient, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void MaxPool_OverlappingBeforeOpset16_ClearError()
    {
        var check = new GradientCheck(opset: 15);
        var x = check.Input("x", [1, 2, 5, 5]);
        var y = check.Builder.Op("MaxPool", [x], Attribute.Of("kernel_shape", [3L, 3L]));
        var error = Assert.Throws<GraphException>(() => check.Verify(y, Rtol, Atol));
        Assert.Contains("opset 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxPool_NonOverlappingBeforeOpset16_MatchesNumerical()
    {
        var check = new GradientCheck(opset: 15);
        var x = check.Input("x", [2, 3, 6, 6]);
        check.Verify(check.Builder.Op("MaxPool", [x], Attribute.Of("kernel_shape", [2L, 2L]), Attribute.Of("strides", [2L, 2L])), Rtol, Atol);
    }

    public static TheoryData<string, long[], long[], long[], long[], long, long, string> AveragePoolCases => new()
    {
        // name, input shape, kernel, strides, pads, ceil_mode, count_include_pad, auto_pad
        { "non-overlapping", [2, 3, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], 0, 0, "NOTSET" },
        { "3x3 s2 p1 excluding pads", [2, 3, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], 0, 0, "NOTSET" },
        { "3x3 s2 p1 including pads", [2, 3, 7, 7], [3, 3], [2, 2], [1, 1, 1, 1], 0, 1, "NOTSET" },
        { "stride 1 overlapping", [1, 2, 5, 6], [3, 3], [1, 1], [1, 1, 1, 1], 0, 0, "NOTSET" },
        { "asymmetric", [1, 2, 7, 8], [3, 2], [1, 2], [1, 0, 2, 1], 0, 1, "NOTSET" },
        { "ceil_mode partial windows", [1, 2, 8, 8], [3, 3], [2, 2], [0, 0, 0, 0], 1, 0, "NOTSET" },
        { "ceil_mode past end pads, excluding", [1, 2, 8, 9], [3, 3], [2, 2], [1, 1, 1, 1], 1, 0, "NOTSET" },
        { "ceil_mode past end pads, including", [1, 2, 8, 9], [3, 3], [2, 2], [1, 1, 1, 1], 1, 1, "NOTSET" },
        { "kernel smaller than stride", [1, 2, 9, 10], [2, 2], [3, 3], [0, 0, 0, 0], 0, 0, "NOTSET" },
        { "floor drops trailing rows with end pad", [1, 2, 9, 9], [3, 3], [3, 3], [0, 0, 1, 2], 0, 1, "NOTSET" },
        { "SAME_UPPER", [1, 2, 7, 7], [3, 3], [2, 2], [], 0, 0, "SAME_UPPER" },
        { "SAME_LOWER including pads", [1, 2, 6, 7], [2, 3], [1, 2], [], 0, 1, "SAME_LOWER" },
        { "1-D tiling", [2, 3, 8], [2], [2], [0, 0], 0, 0, "NOTSET" },
        { "1-D", [2, 3, 10], [3], [2], [1, 1], 0, 0, "NOTSET" },
        { "1-D ceil_mode including pads", [2, 3, 10], [4], [3], [1, 1], 1, 1, "NOTSET" },
    };

    [Theory]
    [MemberData(nameof(AveragePoolCases))]
    public void AveragePool_MatchesNumerical(string name, long[] shape, long[] kernel, long[] strides, long[] pads, long ceil, long includePad, string autoPad)
    {
        _ = name;
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", shape);
        var attributes = PoolAttributes(kernel, strides, pads, null, ceil, autoPad).Append(Attribute.Of("count_include_pad", includePad)).ToArray();
        check.Verify(check.Builder.Op("AveragePool", [x], attributes), FloatRtol, FloatAtol, FloatEpsilon);
    }

    [Fact]
    public void AveragePool_Dilated_MatchesNumerical()
    {
        var check = new GradientCheck(DataType.Float, opset: 19);
        var x = check.Input("x", [1, 2, 9, 9]);
        var attributes = PoolAttributes([2, 3], [1, 2], [1, 1, 0, 1], [2, 2], 1, "NOTSET");
        check.Verify(check.Builder.Op("AveragePool", [x], attributes), FloatRtol, FloatAtol, FloatEpsilon);
    }

    [Theory]
    [InlineData("MaxPool", 0L, DataType.Double)]
    [InlineData("MaxPool", 0L, DataType.Float)]
    [InlineData("AveragePool", 0L, DataType.Float)]
    [InlineData("AveragePool", 1L, DataType.Float)]
    public void Pool_SymbolicBatchAndChannels_MatchesStaticShapes(string op, long ceil, DataType type)
    {
        // Artifacts keep the batch symbolic, and a channel count may be unknown too: the rules must not depend on them.
        long[] shape = [2, 3, 7, 8];
        var attributes = PoolAttributes([3, 3], [2, 2], [1, 1, 1, 1], null, ceil, "NOTSET");
        var outShape = OutShape(shape, [3, 3], [2, 2], [1, 1, 1, 1], ceil == 1);
        var random = new Random(3);
        var data = Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => random.NextDouble()).ToArray();
        var (expected, _) = ExactGradient(shape, data, b => b.Op(op, [b.Graph["x"]], attributes), outShape, type);
        var (actual, _) = ExactGradient(shape, data, b => b.Op(op, [b.Graph["x"]], attributes), outShape, type, symbolicDims: 2);
        Assert.Equal(expected, actual, (a, b) => Math.Abs(a - b) <= 1e-6 * (1 + Math.Abs(a)));
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 4, 5 })]
    [InlineData(new long[] { 2, 3, 7 })]
    public void GlobalAveragePool_MatchesNumerical(long[] shape)
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", shape);
        check.Verify(check.Builder.Op("GlobalAveragePool", [x]), FloatRtol, FloatAtol, FloatEpsilon);
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 4, 5 })]
    [InlineData(new long[] { 2, 3, 7 })]
    public void GlobalMaxPool_MatchesNumerical(long[] shape)
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", shape);
        check.Verify(check.Builder.Op("GlobalMaxPool", [x]), FloatRtol, FloatAtol, FloatEpsilon);
    }

    [Fact]
    public void GlobalMaxPool_Ties_GradientGoesToFirstMaximum()
    {
        long[] shape = [2, 3, 3, 4];
        var data = Enumerable.Range(0, 72).Select(i => (double)(i % 5 == 0 ? 9 : i % 3)).ToArray();
        var (gradient, weights) = ExactGradient(shape, data, b => b.Op("GlobalMaxPool", [b.Graph["x"]]), [2, 3, 1, 1], DataType.Float);
        var expected = new double[data.Length];
        for (int plane = 0; plane < 6; plane++)
        {
            int first = Enumerable.Range(plane * 12, 12).MaxBy(i => (data[i], -i));
            expected[first] = weights[plane];
        }
        Assert.Equal(expected, gradient, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void GlobalMaxPool_DynamicSpatialDims_SplitsTiesEvenly()
    {
        // Without static H and W there is no MaxPool kernel to ask for indices: the mask fallback splits ties (amax's rule).
        long[] shape = [2, 3, 3, 4];
        var data = Enumerable.Range(0, 72).Select(i => (double)(i % 5 == 0 ? 9 : i % 3)).ToArray();
        var (gradient, weights) = ExactGradient(shape, data, b => b.Op("GlobalMaxPool", [b.Graph["x"]]), [2, 3, 1, 1], DataType.Float, symbolicDims: 4);
        var expected = new double[data.Length];
        for (int plane = 0; plane < 6; plane++)
        {
            var maxima = Enumerable.Range(plane * 12, 12).Where(i => data[i] == Enumerable.Range(plane * 12, 12).Max(j => data[j])).ToList();
            foreach (int i in maxima) expected[i] = weights[plane] / maxima.Count;
        }
        Assert.Equal(expected, gradient, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void GlobalAveragePool_DynamicSpatialDims_DividesByRuntimeSize()
    {
        long[] shape = [2, 3, 3, 4];
        var data = Enumerable.Range(0, 72).Select(i => i / 7.0).ToArray();
        var (gradient, weights) = ExactGradient(shape, data, b => b.Op("GlobalAveragePool", [b.Graph["x"]]), [2, 3, 1, 1], DataType.Float, symbolicDims: 4);
        Assert.Equal(Enumerable.Range(0, 72).Select(i => weights[i / 12] / 12), gradient, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    public static TheoryData<string, long[], long[], long[]?> PadCases => new()
    {
        // name, input shape, pads, axes
        { "spatial pads", [2, 3, 4, 5], [0, 0, 1, 2, 0, 0, 2, 1], null },
        { "all axes", [2, 3, 4], [1, 0, 2, 0, 1, 1], null },
        { "negative pads crop", [2, 3, 6, 6], [0, 0, -1, 2, 0, 0, 1, -2], null },
        { "only negative", [2, 5], [0, -1, 0, -2], null },
        { "axes input", [2, 3, 4, 5], [1, 2, 0, 1], [2, 3] },
        { "negative axes", [2, 3, 4, 5], [2, -1], [-1] },
    };

    [Theory]
    [MemberData(nameof(PadCases))]
    public void Pad_Constant_MatchesNumerical(string name, long[] shape, long[] pads, long[]? axes)
    {
        _ = name;
        var check = new GradientCheck(opset: 18);
        var x = check.Input("x", shape);
        var b = check.Builder;
        var value = b.Scalar(0.5, DataType.Double);
        check.Verify(b.Op("Pad", axes is null ? [x, b.Ints(pads), value] : [x, b.Ints(pads), value, b.Ints(axes)]), Rtol, Atol);
    }

    [Fact]
    public void Pad_TrainableConstantValue_MatchesNumerical()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 4]);
        var value = check.Input("value", []);
        check.Verify(check.Builder.Op("Pad", [x, check.Builder.Ints(0, -1, 2, 1, 1, 0), value]), Rtol, Atol);
    }

    [Fact]
    public void Pad_ReflectMode_ClearError()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 4]);
        var y = check.Builder.Op("Pad", [x, check.Builder.Ints(0, 0, 1, 0, 0, 1)], Attribute.Of("mode", "reflect"));
        var error = Assert.Throws<GraphException>(() => check.Verify(y, Rtol, Atol));
        Assert.Contains("constant mode", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A shuffled even spread over [-1, 1]: no two values closer than 2 / count.</summary>
    private static double[] DistinctValues(long[] shape, int seed)
    {
        long count = Tensor.ElementCount(shape);
        var values = Enumerable.Range(0, (int)count).Select(i => -1 + 2.0 * i / (count - 1)).ToArray();
        new Random(seed).Shuffle(values);
        return values;
    }

    private static Attribute[] PoolAttributes(long[] kernel, long[] strides, long[] pads, long[]? dilations, long ceil, string autoPad)
    {
        var attributes = new List<Attribute> { Attribute.Of("kernel_shape", kernel), Attribute.Of("strides", strides), Attribute.Of("ceil_mode", ceil) };
        if (autoPad == "NOTSET") attributes.Add(Attribute.Of("pads", pads));
        else attributes.Add(Attribute.Of("auto_pad", autoPad));
        if (dilations is not null) attributes.Add(Attribute.Of("dilations", dilations));
        return [.. attributes];
    }

    private static long[] OutShape(long[] shape, long[] kernel, long[] strides, long[] pads, bool ceil)
    {
        var result = new long[] { shape[0], shape[1], 0, 0 };
        for (int i = 0; i < 2; i++)
        {
            long span = shape[i + 2] + pads[i] + pads[i + 2] - kernel[i];
            long count = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
            if (ceil && (count - 1) * strides[i] >= shape[i + 2] + pads[i]) count--;
            result[i + 2] = count;
        }
        return result;
    }

    /// <summary>
    /// The builder's gradient of loss = sum(f(x) * weights) at a point where central differences are
    /// meaningless (ties), for comparison with a hand-computed subgradient.
    /// </summary>
    private static (double[] Gradient, double[] Weights) ExactGradient(long[] shape, double[] data, Func<GraphBuilder, Value> forward, long[] outShape,
        DataType type = DataType.Double, int symbolicDims = 0)
    {
        var model = new Model();
        var builder = new GraphBuilder(model.Graph, model.OpsetVersion, "test");
        Dim[] Declared(long[] dims) => [.. dims.Select((d, i) => i < symbolicDims && d != 1 ? Dim.Named($"d{i}") : Dim.Known(d))];
        var x = model.Graph.AddInput("x", new TensorType(type, Declared(shape)));
        var y = forward(builder);
        y.Type = new TensorType(type, Declared(outShape));
        var random = new Random(11);
        // Multiples of 1/64 are exact in float32, so the expected sums are exact in both types.
        var weights = Enumerable.Range(0, (int)Tensor.ElementCount(outShape)).Select(_ => random.Next(-32, 32) / 64.0).ToArray();
        var product = builder.Mul(y, model.Graph.AddInitializer("weights", type == DataType.Double
            ? Tensor.FromDoubles(outShape, weights) : Tensor.FromFloats(outShape, Array.ConvertAll(weights, w => (float)w))));
        product.Type = y.Type;
        var loss = builder.ReduceSum(product, [.. Enumerable.Range(0, outShape.Length).Select(a => (long)a)], keepDims: false);
        loss.Type = TensorType.Of(type);
        model.Graph.Outputs.Add(loss);
        GradientBuilder.Build(model.Graph, model.OpsetVersion, loss, [x], TrainingContract.Gradient);
        using var runner = new OrtRunner(model);
        var results = runner.Run(new Dictionary<string, (DataType, long[], double[])> { ["x"] = (type, shape, data) });
        return (results[1].Data, weights);
    }
}
