using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// ORT's Conv runs in float32 only. Conv is linear in X and in W separately, so central differences
// carry no truncation error and a large epsilon (0.05) only shrinks the float32 rounding noise of the
// loss (~1e-5 absolute) divided by 2*eps: errors stay below ~5e-4, hence rtol 1e-3, atol 2e-3.
public class ConvGradientTests
{
    private const double Rtol = 1e-3, Atol = 2e-3, Epsilon = 0.05;

    // attrs: s=strides, d=dilations, p=pads (begins then ends), auto=auto_pad, g=group, bias, frozenW (W an initializer).
    public static TheoryData<string, long[], long[], string> Cases => new()
    {
        { "3x3 s1 p1", [2, 3, 6, 6], [4, 3, 3, 3], "p=1,1,1,1;bias" },
        { "3x3 s2 p1 odd size", [2, 3, 7, 7], [4, 3, 3, 3], "s=2,2;p=1,1,1,1;bias" },
        { "3x3 s2 no pad, leftover row/col", [1, 2, 8, 8], [3, 2, 3, 3], "s=2,2" },
        { "3x3 s3 leftover 2", [1, 2, 10, 9], [2, 2, 3, 3], "s=3,3;p=1,0,0,0" },
        { "dilation 2", [2, 2, 9, 9], [3, 2, 3, 3], "d=2,2;p=2,2,2,2;bias" },
        { "dilation 2 stride 2", [1, 2, 10, 11], [3, 2, 3, 3], "d=2,2;s=2,2;p=1,2,1,0" },
        { "asymmetric pads", [2, 3, 6, 7], [2, 3, 3, 2], "p=0,1,2,0;bias" },
        { "asymmetric pads s2", [1, 3, 7, 8], [2, 3, 3, 3], "s=2,2;p=1,0,0,2" },
        { "pads beyond kernel reach", [2, 3, 4, 4], [5, 3, 1, 1], "p=1,1,1,1;bias" },
        { "pads beyond reach 3x3", [1, 2, 5, 5], [2, 2, 3, 3], "p=3,0,2,1" },
        { "SAME_UPPER s2", [1, 2, 8, 7], [3, 2, 3, 3], "s=2,2;auto=SAME_UPPER;bias" },
        { "SAME_LOWER s2", [1, 2, 8, 7], [3, 2, 3, 3], "s=2,2;auto=SAME_LOWER" },
        { "SAME_UPPER s1 even kernel", [1, 2, 6, 5], [3, 2, 4, 2], "auto=SAME_UPPER" },
        { "SAME_LOWER s1 even kernel", [1, 2, 6, 5], [3, 2, 4, 2], "auto=SAME_LOWER" },
        { "VALID s2", [1, 2, 8, 7], [3, 2, 3, 3], "s=2,2;auto=VALID" },
        { "group 2", [2, 4, 6, 6], [6, 2, 3, 3], "g=2;p=1,1,1,1;bias" },
        { "group 2 s2", [2, 4, 7, 6], [4, 2, 3, 3], "g=2;s=2,2;p=1,1,1,1" },
        { "group 2 frozen W", [2, 4, 6, 6], [6, 2, 3, 3], "g=2;p=1,1,1,1;frozenW" },
        { "depthwise s1", [2, 4, 6, 6], [4, 1, 3, 3], "g=4;p=1,1,1,1;bias" },
        { "depthwise s2", [2, 4, 7, 7], [4, 1, 3, 3], "g=4;s=2,2;p=1,1,1,1" },
        { "depthwise 5x5 s2 leftover", [1, 3, 10, 10], [3, 1, 5, 5], "g=3;s=2,2;p=2,2,2,2" },
        { "depthwise frozen W", [2, 4, 6, 6], [4, 1, 3, 3], "g=4;p=1,1,1,1;frozenW" },
        { "channel multiplier", [2, 3, 7, 7], [6, 1, 3, 3], "g=3;s=2,2;p=1,1,1,1;bias" },
        { "channel multiplier s1", [2, 2, 5, 5], [6, 1, 3, 3], "g=2;p=1,1,1,1" },
        // Depthwise rows wider than one MLAS panel: column blocks, pairs across block boundaries, dY padded to whole blocks.
        { "depthwise column blocks", [1, 3, 4, 40], [3, 1, 3, 3], "g=3;p=1,1,1,1;bias" },
        { "depthwise column blocks s2", [2, 2, 5, 45], [2, 1, 3, 3], "g=2;s=2,2;p=1,1,1,1" },
        { "depthwise column blocks s2 asymmetric pads", [1, 2, 5, 40], [2, 1, 3, 3], "g=2;s=2,2;p=0,2,1,0" },
        { "depthwise column blocks 5x5 dilation 2", [1, 2, 6, 37], [2, 1, 5, 5], "g=2;d=2,2;p=4,4,4,4" },
        { "depthwise column blocks, X read past them", [1, 2, 4, 34], [2, 1, 3, 3], "g=2" },
        { "depthwise one block, X read past it", [1, 2, 3, 40], [2, 1, 1, 3], "g=2;d=1,8" },
        { "channel multiplier column blocks", [1, 2, 4, 35], [6, 1, 3, 3], "g=2;p=1,1,1,1;bias" },
        { "depthwise s3 dilation 2, row phases", [1, 2, 13, 40], [2, 1, 3, 3], "g=2;s=3,3;d=2,2;p=2,1,1,2" },
        { "depthwise taps past the neighbour block (unfold)", [1, 2, 3, 18], [2, 1, 1, 5], "g=2;d=1,4" },
        { "1x1", [2, 4, 5, 5], [3, 4, 1, 1], "bias" },
        { "1x1 s2 leftover", [2, 4, 6, 5], [3, 4, 1, 1], "s=2,2" },
        { "1x1 group 2", [2, 4, 5, 5], [6, 2, 1, 1], "g=2" },
        { "1x1 frozen W", [2, 4, 5, 5], [3, 4, 1, 1], "frozenW" },
        { "1x1 many channels over few positions (one Gemm)", [2, 24, 2, 2], [20, 24, 1, 1], "bias" },
        { "1x1 s2 one Gemm", [3, 24, 4, 3], [20, 24, 1, 1], "s=2,2" },
        { "3x3 frozen W", [2, 3, 6, 6], [4, 3, 3, 3], "p=1,1,1,1;frozenW" },
        { "1-D s2", [2, 3, 9], [4, 3, 3], "s=2;p=1,0;bias" },
        { "1-D depthwise dilation 2", [2, 3, 11], [3, 1, 3], "g=3;d=2;p=2,2" },
        { "1-D SAME_UPPER s2", [2, 3, 10], [4, 3, 4], "s=2;auto=SAME_UPPER" },
        { "3-D", [1, 2, 4, 5, 4], [3, 2, 2, 3, 2], "s=1,2,1;p=1,1,0,0,1,1;bias" },
        // dW of stride-1 "same" kernels is one Gemm over shifted copies of dY and X (unless the grid's gaps cost the Gemm
        // too much); otherwise, over 16+ input channels, one Gemm per kernel tap, over flat shifts on large grids, over 2-D windows.
        { "shifted copies 3x3", [2, 16, 30, 30], [3, 16, 3, 3], "p=1,1,1,1;bias" },
        { "shifted copies dilation 2", [1, 16, 60, 60], [2, 16, 3, 3], "d=2,2;p=2,2,2,2" },
        { "shifted copies asymmetric", [1, 16, 30, 31], [2, 16, 3, 2], "p=0,1,2,0" },
        { "shifted copies 1-D", [2, 16, 40], [3, 16, 3], "p=1,1" },
        { "shifted copies 1-D, pads after only", [2, 16, 40], [3, 16, 3], "p=0,2" },
        { "shifted copies 3-D, one tap on the last axis", [1, 16, 24, 24, 2], [2, 16, 3, 3, 1], "p=1,1,0,1,1,0" },
        { "shifted copies, every tap in B (many more outputs than inputs)", [2, 2, 8, 8], [8, 2, 3, 3], "p=1,1,1,1;bias" },
        { "shifted copies, every tap in B, dilation and asymmetric pads", [1, 2, 9, 10], [9, 2, 3, 2], "d=2,1;p=2,0,2,1" },
        { "shifted copies, every tap in B, pads after only", [1, 2, 8, 8], [8, 2, 3, 3], "p=0,0,2,2" },
        { "per-tap flat, no pads", [1, 16, 30, 30], [2, 16, 3, 3], "bias" },
        { "per-tap flat s2 (phases)", [1, 16, 56, 56], [2, 16, 3, 3], "s=2,2;p=1,1,1,1;bias" },
        { "per-tap flat s2, phases of two grid sizes", [1, 16, 57, 57], [2, 16, 3, 3], "s=2,2;p=1,1,1,1" },
        { "per-tap flat s2 dilation 2", [1, 16, 60, 60], [2, 16, 3, 3], "d=2,2;s=2,2;p=2,2,2,2" },
        { "shifted copies, small grid", [2, 16, 6, 6], [3, 16, 3, 3], "p=1,1,1,1" },
        { "per-tap 2-D windows s2", [1, 16, 21, 21], [2, 16, 3, 3], "s=2,2;p=1,1,1,1;bias" },
        { "per-tap 2-D windows SAME_UPPER s2", [1, 16, 22, 21], [2, 16, 3, 3], "s=2,2;auto=SAME_UPPER" },
        { "per-tap 1-D s2", [2, 16, 400], [3, 16, 3], "s=2;p=1,0" },
        { "per-tap 3-D", [1, 16, 8, 9, 8], [2, 16, 2, 3, 2], "s=1,2,1;p=1,1,0,0,1,1" },
        // Small planes the shifted copies do not serve: every window unfolded by one MatMul with a 0/1 matrix.
        { "small plane 3x3 s2", [2, 16, 9, 9], [3, 16, 3, 3], "s=2,2;p=1,1,1,1;bias" },
        { "small plane s3 leftover, pads before only", [1, 16, 10, 9], [2, 16, 3, 3], "s=3,3;p=1,0,0,0" },
        { "small plane dilation 2 stride 2", [1, 16, 10, 11], [3, 16, 3, 3], "d=2,2;s=2,2;p=1,2,1,0" },
        { "small plane pads beyond reach", [1, 16, 5, 5], [2, 16, 3, 3], "p=3,0,2,1" },
        { "small plane SAME_UPPER s2", [1, 16, 8, 7], [3, 16, 3, 3], "s=2,2;auto=SAME_UPPER" },
        { "small plane SAME_LOWER s2 even kernel", [1, 16, 6, 5], [3, 16, 4, 2], "s=2,2;auto=SAME_LOWER;bias" },
        { "small plane 1-D s2", [2, 16, 9], [3, 16, 3], "s=2;p=1,0" },
        { "small plane 3-D", [1, 16, 4, 5, 4], [2, 16, 2, 3, 2], "s=1,2,1;p=1,1,0,0,1,1" },
    };

    [Theory]
    [InlineData(30, 16, 1, 1)] // shifted copies
    [InlineData(4, 16, 1, 1)] // shifted copies: the grid's gaps are cheap over few channels
    [InlineData(4, 128, 1, 2)] // small plane (the gaps would cost the shifted copies' Gemm 83k multiply-adds per position): dW's and the forward's
    [InlineData(9, 16, 2, 2)] // small plane, strided
    [InlineData(12, 256, 1, 9)] // per tap: the gaps would cost 102k, the small plane's unfolding 187k multiply-adds per plane
    [InlineData(20, 16, 2, 9)] // per tap, strided
    public void Conv_ManyChannels_WeightGradientGemms(long size, long channels, long stride, int gemms)
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", [2, channels, size, size]);
        var w = check.Input("w", [channels, channels, 3, 3]);
        var y = Conv(check.Builder, [x, w], Parse($"s={stride},{stride};p=1,1,1,1"));
        var loss = check.Builder.ReduceSum(y, [], keepDims: false);
        ShapeInference.Run(check.Graph, 17);
        GradientBuilder.Build(check.Graph, 17, loss, [w], TrainingContract.Gradient);
        Assert.Equal(gemms, check.Graph.Nodes.Count(n => n.OpType == "Gemm"));
        Assert.DoesNotContain(check.Graph.Nodes, n => n.OpType == "Gather");
    }

    [Fact]
    public void Conv_SmallPlane_ForwardReadsTheUnfoldedInput()
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", [2, 16, 9, 9]);
        var w = check.Input("w", [16, 16, 3, 3]);
        var y = Conv(check.Builder, [x, w, check.Input("b", [16])], Parse("s=2,2;p=1,1,1,1"));
        var relu = check.Builder.Op("Relu", [y]);
        var loss = check.Builder.ReduceSum(relu, [], keepDims: false);
        ShapeInference.Run(check.Graph, 17);

        GradientBuilder.Build(check.Graph, 17, loss, [w], TrainingContract.Gradient);

        // One unfolding of X, read by dW's Gemm and by the Gemm that now computes the Relu's input; the Conv has no readers left.
        var unfolding = Assert.Single(check.Graph.Nodes, n => n.OpType == "MatMul");
        Assert.Empty(y.Users);
        var forward = Assert.Single(relu.Producer!.Inputs)!;
        Assert.Contains(Ancestors(forward.Producer!), n => n == unfolding);
        Assert.Equal(2, check.Graph.Nodes.Count(n => n.OpType == "Gemm" && Ancestors(n).Contains(unfolding)));
    }

    private static HashSet<Node> Ancestors(Node node)
    {
        var seen = new HashSet<Node>();
        var pending = new Stack<Node>([node]);
        while (pending.TryPop(out var n))
            foreach (var producer in n.Inputs.Select(v => v?.Producer).OfType<Node>())
                if (seen.Add(producer)) pending.Push(producer);
        return seen;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv_Geometry_MatchesNumerical(string _, long[] xShape, long[] wShape, string attrs)
    {
        var check = new GradientCheck(DataType.Float);
        var spec = Parse(attrs);
        var x = check.Input("x", xShape);
        var w = spec.ContainsKey("frozenW") ? check.Constant("w", wShape, check.RandomData(wShape)) : check.Input("w", wShape);
        Value?[] inputs = spec.ContainsKey("bias") ? [x, w, check.Input("b", [wShape[0]])] : [x, w];

        check.Verify(Conv(check.Builder, inputs, spec), Rtol, Atol, Epsilon);

        Assert.All(check.Graph.Nodes, n => Assert.Equal("", n.Domain));
    }

    [Theory]
    [InlineData("3x3 s2", new long[] { 2, 3, 7, 7 }, new long[] { 4, 3, 3, 3 }, "s=2,2;p=1,1,1,1")]
    [InlineData("depthwise", new long[] { 2, 4, 6, 6 }, new long[] { 4, 1, 3, 3 }, "g=4;p=1,1,1,1;bias")]
    [InlineData("1x1", new long[] { 2, 4, 5, 5 }, new long[] { 3, 4, 1, 1 }, "")]
    public void Conv_FrozenInput_OnlyWeightGradientEmitted(string _, long[] xShape, long[] wShape, string attrs)
    {
        var check = new GradientCheck(DataType.Float);
        var spec = Parse(attrs);
        var x = check.FixedInput("x", xShape);
        var w = check.Input("w", wShape);
        Value?[] inputs = spec.ContainsKey("bias") ? [x, w, check.Input("b", [wShape[0]])] : [x, w];

        check.Verify(Conv(check.Builder, inputs, spec), Rtol, Atol, Epsilon);

        // No input gradient: besides the forward Conv, a convolution may only correlate X itself (a weight
        // gradient); one that never reads X (reached without passing through the forward Conv) would be dX.
        var forward = Assert.Single(check.Graph.Nodes, n => n.OpType == "Conv" && n.Inputs.Contains(x));
        Assert.All(check.Graph.Nodes.Where(n => n.OpType is "Conv" or "ConvTranspose" && n != forward),
            n => Assert.True(ReadsBeforeForward(n, x, forward), $"{n} is an input-gradient convolution"));
    }

    private static bool ReadsBeforeForward(Node node, Value x, Node forward) =>
        node.Inputs.Any(v => v == x || (v?.Producer is { } p && p != forward && ReadsBeforeForward(p, x, forward)));

    [Theory]
    [InlineData(new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 4L)]
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 0, 2, 1 }, 1L)]
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 2L)]
    [InlineData(new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 4L, 4L, 40L)] // depthwise column blocks
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 4L, 4L, 40L)] // depthwise column blocks, stride 2
    [InlineData(new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 1L, 16L, 30L)] // one Gemm over shifted copies
    [InlineData(new long[] { 1, 1 }, new long[] { 0, 0, 0, 0 }, 1L, 16L, 30L)] // per-tap Gemms over flat shifts
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 1L, 16L, 30L)] // per-tap Gemms over flat shifts of stride phases
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 0, 2, 1 }, 1L, 16L)] // one Gemm over a small plane unfolded by a MatMul
    [InlineData(new long[] { 2, 2 }, new long[] { 1, 0, 2, 1 }, 1L, 16L, 21L)] // per-tap Gemms over 2-D windows
    public void Conv_SymbolicBatch_MatchesReference(long[] strides, long[] pads, long group, long C = 4, long H = 7)
    {
        // Arrange: X and dY have a symbolic batch; run at two batch sizes against a direct loop reference.
        const long M = 4, K = 3;
        long Wd = H - 1;
        var model = new Model();
        model.Opsets[""] = 17;
        var graph = model.Graph;
        var b = new GraphBuilder(graph, 17, "t");
        var batch = Dim.Named("N");
        long oh = (H + pads[0] + pads[2] - K) / strides[0] + 1, ow = (Wd + pads[1] + pads[3] - K) / strides[1] + 1;
        var x = graph.AddInput("x", new TensorType(DataType.Float, [batch, C, H, Wd]));
        var w = graph.AddInput("w", TensorType.Of(DataType.Float, M, C / group, K, K));
        var r = graph.AddInput("r", new TensorType(DataType.Float, [batch, M, oh, ow]));
        var y = b.Op("Conv", [x, w], Attribute.Of("strides", strides), Attribute.Of("pads", pads), Attribute.Of("group", group));
        y.Type = r.Type;
        var product = b.Mul(y, r);
        product.Type = r.Type;
        var loss = b.ReduceSum(product, [0, 1, 2, 3], keepDims: false);
        loss.Type = TensorType.Of(DataType.Float);
        graph.Outputs.Add(loss);

        // Act
        GradientBuilder.Build(graph, 17, loss, [x, w], TrainingContract.Gradient);
        using var runner = new OrtRunner(model);

        // Assert
        var random = new Random(7);
        foreach (long n in new long[] { 3, 1 })
        {
            var xs = Random(random, n * C * H * Wd);
            var ws = Random(random, M * (C / group) * K * K);
            var rs = Random(random, n * M * oh * ow);
            var results = runner.Run(new Dictionary<string, (DataType, long[], double[])>
            {
                ["x"] = (DataType.Float, [n, C, H, Wd], xs),
                ["w"] = (DataType.Float, [M, C / group, K, K], ws),
                ["r"] = (DataType.Float, [n, M, oh, ow], rs),
            });
            var (reference, dx, dw) = ReferenceBackward(xs, ws, rs, n, C, H, Wd, M, K, group, strides, pads, oh, ow);
            AssertClose([reference], results[0].Data);
            AssertClose(dx, results[1].Data);
            AssertClose(dw, results[2].Data);
        }
    }

    private static Value Conv(GraphBuilder b, Value?[] inputs, Dictionary<string, string> spec)
    {
        var attributes = new List<Attribute>();
        if (spec.TryGetValue("s", out var s)) attributes.Add(Attribute.Of("strides", Longs(s)));
        if (spec.TryGetValue("d", out var d)) attributes.Add(Attribute.Of("dilations", Longs(d)));
        if (spec.TryGetValue("p", out var p)) attributes.Add(Attribute.Of("pads", Longs(p)));
        if (spec.TryGetValue("auto", out var auto)) attributes.Add(Attribute.Of("auto_pad", auto));
        if (spec.TryGetValue("g", out var g)) attributes.Add(Attribute.Of("group", long.Parse(g, System.Globalization.CultureInfo.InvariantCulture)));
        return b.Op("Conv", inputs, [.. attributes]);
    }

    private static Dictionary<string, string> Parse(string attrs) =>
        attrs.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");

    private static long[] Longs(string csv) => [.. csv.Split(',').Select(v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];

    private static double[] Random(Random random, long count) => [.. Enumerable.Range(0, (int)count).Select(_ => random.NextDouble() * 2 - 1)];

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"[{i}]: expected {expected[i]:G9}, got {actual[i]:G9}");
    }

    /// <summary>Direct loops over the forward Conv's definition, accumulating dX and dW for upstream gradient r.</summary>
    private static (double Loss, double[] Dx, double[] Dw) ReferenceBackward(double[] x, double[] w, double[] r, long n, long c, long h, long wd,
        long m, long k, long group, long[] strides, long[] pads, long oh, long ow)
    {
        long cg = c / group, mg = m / group;
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        double loss = 0;
        for (long b = 0; b < n; b++)
            for (long mo = 0; mo < m; mo++)
                for (long i = 0; i < oh; i++)
                    for (long j = 0; j < ow; j++)
                    {
                        double go = r[((b * m + mo) * oh + i) * ow + j];
                        for (long ci = 0; ci < cg; ci++)
                            for (long ki = 0; ki < k; ki++)
                                for (long kj = 0; kj < k; kj++)
                                {
                                    long hi = i * strides[0] + ki - pads[0], wj = j * strides[1] + kj - pads[1];
                                    if (hi < 0 || hi >= h || wj < 0 || wj >= wd) continue;
                                    long channel = mo / mg * cg + ci;
                                    long xi = ((b * c + channel) * h + hi) * wd + wj, wi = ((mo * cg + ci) * k + ki) * k + kj;
                                    dx[xi] += go * w[wi];
                                    dw[wi] += go * x[xi];
                                    loss += go * w[wi] * x[xi];
                                }
                    }
        return (loss, dx, dw);
    }
}
