using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>Each upgrade rule on a model built in the old form: original and upgraded compute the same in ONNX Runtime.</summary>
public sealed class OpsetUpgradeRuleTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void BatchNormalization_Spatial0_KeepsPerActivationMeaning(long opset)
    {
        var c = new UpgradeCase(opset);
        var x = c.Input("x", 2, 3, 4, 5);
        var variance = c.Graph.AddInitializer("var", Tensor.FromFloats([3, 4, 5], Enumerable.Range(0, 60).Select(i => 0.5f + i / 60f).ToArray()));
        c.Node("BatchNormalization", [x, c.Weight("scale", 3, 4, 5), c.Weight("bias", 3, 4, 5), c.Weight("mean", 3, 4, 5), variance], 1,
            Attribute.Of("spatial", 0L), Attribute.Of("epsilon", 1e-3f));
        var upgraded = c.AssertUpgradeKeepsOutputs();
        Assert.DoesNotContain(upgraded.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal("batchnormalization_out0", upgraded.Graph.Outputs[0].Name);
    }

    [Fact]
    public void BatchNormalization_Spatial1_StaysOneNodeWithoutTheAttribute()
    {
        var c = new UpgradeCase(8);
        var x = c.Input("x", 2, 3, 4, 4);
        var variance = c.Graph.AddInitializer("var", Tensor.FromFloats([3], [0.5f, 1f, 2f]));
        c.Node("BatchNormalization", [x, c.Weight("scale", 3), c.Weight("bias", 3), c.Weight("mean", 3), variance], 1, Attribute.Of("spatial", 1L));
        var upgraded = c.AssertUpgradeKeepsOutputs();
        var norm = Assert.Single(upgraded.Graph.Nodes);
        Assert.False(norm.Attributes.ContainsKey("spatial"));
    }

    [Fact]
    public void BatchNormalization_TestModeAndConsumedInputs_AreDropped()
    {
        // Opset 6 (is_test) cannot run in ONNX Runtime any more: the expected values are the inference formula.
        var c = new UpgradeCase(6);
        var x = c.Input("x", 1, 2, 1, 2);
        var one = c.Graph.AddInitializer("one", Tensor.FromFloats([2], [1f, 1f]));
        var zero = c.Graph.AddInitializer("zero", Tensor.FromFloats([2], [0f, 0f]));
        var mean = c.Graph.AddInitializer("mean", Tensor.FromFloats([2], [1f, -1f]));
        var variance = c.Graph.AddInitializer("var", Tensor.FromFloats([2], [4f, 1f]));
        c.Node("BatchNormalization", [x, one, zero, mean, variance], 1, Attribute.Of("is_test", 1L), Attribute.Of("consumed_inputs", [0L, 0L, 0L, 1L, 1L]),
            Attribute.Of("epsilon", 0f));
        var data = c.Feeds["x"].Data;
        double[] expected = [(data[0] - 1) / 2, (data[1] - 1) / 2, data[2] + 1, data[3] + 1];
        c.AssertUpgradeKeepsOutputs([(expected, [1, 2, 1, 2])]);
    }

    [Theory]
    [InlineData("Squeeze", new long[] { 2, 1, 3, 1 }, new long[] { 1, 3 })]
    [InlineData("Unsqueeze", new long[] { 2, 3 }, new long[] { 0, 3 })]
    [InlineData("ReduceSum", new long[] { 2, 3, 4 }, new long[] { 0, 2 })]
    public void AxesAttribute_BecomesInput(string op, long[] shape, long[] axes)
    {
        var c = new UpgradeCase(11);
        c.Node(op, [c.Input("x", shape)], 1, Attribute.Of("axes", axes));
        var upgraded = c.AssertUpgradeKeepsOutputs();
        var node = Assert.Single(upgraded.Graph.Nodes);
        Assert.Equal(axes, node.Input(1)!.Initializer!.ToInt64s());
    }

    [Fact]
    public void ReduceSum_WithoutAxes_StillReducesEverything()
    {
        var c = new UpgradeCase(12);
        c.Node("ReduceSum", [c.Input("x", 2, 3)], 1, Attribute.Of("keepdims", 0L));
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void Split_SplitAttribute_BecomesInput()
    {
        var c = new UpgradeCase(12);
        c.Node("Split", [c.Input("x", 2, 7)], 2, Attribute.Of("axis", 1L), Attribute.Of("split", [3L, 4L]));
        c.AssertUpgradeKeepsOutputs();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Slice_AttributesBecomeInputs(bool withAxes)
    {
        var c = new UpgradeCase(9);
        var attributes = new List<Attribute> { Attribute.Of("starts", [1L, 0L]), Attribute.Of("ends", [3L, -1L]) };
        if (withAxes) attributes.Add(Attribute.Of("axes", [2L, 1L]));
        c.Node("Slice", [c.Input("x", 4, 5, 6)], 1, [.. attributes]);
        c.AssertUpgradeKeepsOutputs();
    }

    [Theory]
    [InlineData("constant", 1.5f)]
    [InlineData("constant", 0f)]
    [InlineData("reflect", 0f)]
    [InlineData("edge", 0f)]
    public void Pad_PadsAndValue_BecomeInputs(string mode, float value)
    {
        var c = new UpgradeCase(10);
        c.Node("Pad", [c.Input("x", 1, 2, 4, 5)], 1, Attribute.Of("mode", mode), Attribute.Of("pads", [0L, 0L, 1L, 2L, 0L, 0L, 2L, 1L]), Attribute.Of("value", value));
        c.AssertUpgradeKeepsOutputs();
    }

    [Theory]
    [InlineData(true, true)]   // ReLU6 as torch exported it before opset 11
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Clip_MinMax_BecomeInputs(bool min, bool max)
    {
        var c = new UpgradeCase(10);
        var attributes = new List<Attribute>();
        if (min) attributes.Add(Attribute.Of("min", 0f));
        if (max) attributes.Add(Attribute.Of("max", 1f));
        c.Node("Clip", [c.Input("x", 3, 4)], 1, [.. attributes]);
        c.AssertUpgradeKeepsOutputs();
    }

    [Theory]
    [InlineData("Softmax", 1, new long[] { 2, 3, 4 })]       // not the last axis: flattened from axis 1
    [InlineData("Softmax", 0, new long[] { 2, 3 })]
    [InlineData("LogSoftmax", 2, new long[] { 2, 3, 4, 2 })]
    [InlineData("Softmax", 2, new long[] { 2, 3, 4 })]       // the last axis: the same either way
    [InlineData("Hardmax", 1, new long[] { 2, 3, 4 })]
    public void Softmax_AxisBefore13_KeepsFlattenedMeaning(string op, long axis, long[] shape)
    {
        var c = new UpgradeCase(11);
        c.Node(op, [c.Input("x", shape)], 1, Attribute.Of("axis", axis));
        var upgraded = c.AssertUpgradeKeepsOutputs();
        Assert.Equal(op == "Softmax" && axis == shape.Length - 1 ? 1 : 4, upgraded.Graph.Nodes.Count); // Shape, Flatten, op, Reshape
    }

    [Fact]
    public void Softmax_DefaultAxis_IsOneBefore13()
    {
        var c = new UpgradeCase(12);
        c.Node("Softmax", [c.Input("x", 2, 3, 4)], 1);
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void Dropout_RatioAndMask_KeepTheirMeaning()
    {
        var c = new UpgradeCase(7);
        var x = c.Input("x", 2, 3);
        var dropout = c.Node("Dropout", [x], 2, Attribute.Of("ratio", 0.3f));
        // Opset 7 leaves the inference mask unspecified (ONNX Runtime returns zeros); from 10 it is all true: nothing dropped.
        var original = c.Run(c.Model);
        var upgraded = c.AssertUpgradeKeepsOutputs([original[0], ([.. Enumerable.Repeat(1.0, 6)], [2, 3])]);
        var node = upgraded.Graph.Nodes.Single(n => n.OpType == "Dropout");
        Assert.Equal(0.3f, node.Input(1)!.Initializer!.ToFloats()[0]);
        Assert.Equal(dropout.Output(1).Name, upgraded.Graph.Outputs[1].Name);
        Assert.Equal("Cast", upgraded.Graph.Outputs[1].Producer!.OpType);
    }

    [Fact]
    public void Gemm_BroadcastAttribute_IsDropped()
    {
        // Gemm-6 with broadcast=1: ONNX Runtime no longer runs opset 6, so the expected values are computed here.
        var c = new UpgradeCase(6);
        var a = c.Input("a", 2, 3);
        var b = c.Weight("b", 3, 4);
        var bias = c.Weight("c", 4);
        c.Node("Gemm", [a, b, bias], 1, Attribute.Of("broadcast", 1L));
        var expected = new double[8];
        var av = c.Feeds["a"].Data;
        var bv = b.Initializer!.ToDoubles();
        var cv = bias.Initializer!.ToDoubles();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++)
                expected[i * 4 + j] = cv[j] + Enumerable.Range(0, 3).Sum(k => av[i * 3 + k] * bv[k * 4 + j]);
        var upgraded = c.AssertUpgradeKeepsOutputs([(expected, [2, 4])]);
        Assert.False(upgraded.Graph.Nodes[0].Attributes.ContainsKey("broadcast"));
    }

    [Fact]
    public void Add_LegacyBroadcastAtAxis_BecomesNumpyBroadcast()
    {
        var c = new UpgradeCase(6);
        var x = c.Input("x", 2, 3, 2, 2);
        var bias = c.Weight("bias", 3);
        c.Node("Add", [x, bias], 1, Attribute.Of("broadcast", 1L), Attribute.Of("axis", 1L));
        var xv = c.Feeds["x"].Data;
        var bv = bias.Initializer!.ToDoubles();
        var expected = xv.Select((v, i) => v + bv[i / 4 % 3]).ToArray();
        c.AssertUpgradeKeepsOutputs([(expected, [2, 3, 2, 2])]);
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Max")]
    [InlineData("Mean")]
    [InlineData("Min")]
    public void Variadic_BroadcastingFrom8_IsKept(string op)
    {
        var c = new UpgradeCase(8);
        c.Node(op, [c.Input("a", 2, 3), c.Input("b", 3), c.Input("c", 2, 1)], 1);
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void MaxPool_StorageOrderAndIndices_AreKept()
    {
        var c = new UpgradeCase(8);
        c.Node("MaxPool", [c.Input("x", 1, 2, 5, 5)], 2, Attribute.Of("kernel_shape", [2L, 2L]), Attribute.Of("strides", [2L, 2L]), Attribute.Of("storage_order", 1L));
        c.AssertUpgradeKeepsOutputs();
    }

    [Theory]
    [InlineData("nearest", 7)]
    [InlineData("nearest", 9)]
    [InlineData("linear", 9)]
    public void Upsample_BecomesResize(string mode, long opset)
    {
        var c = new UpgradeCase(opset);
        var x = c.Input("x", 1, 2, 3, 4);
        float[] scales = [1f, 1f, 2f, 3f];
        if (opset < 9) c.Node("Upsample", [x], 1, Attribute.Of("mode", mode), Attribute.Of("scales", scales));
        else c.Node("Upsample", [x, c.Graph.AddInitializer("scales", Tensor.FromFloats([4], scales))], 1, Attribute.Of("mode", mode));
        var upgraded = c.AssertUpgradeKeepsOutputs();
        Assert.Equal("Resize", Assert.Single(upgraded.Graph.Nodes).OpType);
    }

    [Theory]
    [InlineData("nearest", new float[] { 1, 1, 2, 2 })]
    [InlineData("nearest", new float[] { 1, 1, 0.5f, 0.5f })]
    [InlineData("linear", new float[] { 1, 1, 2, 1.5f })]
    public void Resize10_KeepsAsymmetricCoordinates(string mode, float[] scales)
    {
        var c = new UpgradeCase(10);
        var x = c.Input("x", 1, 2, 4, 6);
        c.Node("Resize", [x, c.Graph.AddInitializer("scales", Tensor.FromFloats([4], scales))], 1, Attribute.Of("mode", mode));
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void TopK_KBecomesInput()
    {
        var c = new UpgradeCase(9);
        c.Node("TopK", [c.Input("x", 3, 6)], 2, Attribute.Of("k", 2L));
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void Lrn_IsKept()
    {
        var c = new UpgradeCase(8);
        c.Node("LRN", [c.Input("x", 2, 6, 3, 3)], 1, Attribute.Of("size", 3L), Attribute.Of("alpha", 1e-2f), Attribute.Of("beta", 0.75f), Attribute.Of("bias", 2f));
        c.AssertUpgradeKeepsOutputs();
    }

    [Fact]
    public void TrainingGraph_Opset8AlexNetStyleModel_TrainsWithTheOriginalsLogits()
    {
        // Conv -> LRN -> MaxPool -> Flatten -> Gemm, as AlexNet-era exports wrote it: the training graph upgrades it itself.
        var c = new UpgradeCase(8);
        var x = c.Input("input", 2, 3, 8, 8);
        var conv = c.Graph.AddNode("Conv", [x, c.Weight("conv.weight", 6, 3, 3, 3), c.Weight("conv.bias", 6)], ["conv"], [Attribute.Of("pads", [1L, 1L, 1L, 1L])]);
        var lrn = c.Graph.AddNode("LRN", [conv.Output()], ["lrn"], [Attribute.Of("size", 5L), Attribute.Of("alpha", 1e-2f), Attribute.Of("beta", 0.75f), Attribute.Of("bias", 2f)]);
        var pool = c.Graph.AddNode("MaxPool", [lrn.Output()], ["pool"], [Attribute.Of("kernel_shape", [4L, 4L]), Attribute.Of("strides", [4L, 4L])]);
        var flat = c.Graph.AddNode("Flatten", [pool.Output()], ["flat"]);
        c.Node("Gemm", [flat.Output(), c.Weight("fc.weight", 5, 24), c.Weight("fc.bias", 5)], 1, Attribute.Of("transB", 1L));
        var logits = c.Run(c.Model)[0];

        string[] trainable = ["conv.weight", "conv.bias", "fc.weight", "fc.bias"];
        var training = OnnxTrainer.Artifacts.TrainingGraph.BuildTraining(c.Model, trainable, new OnnxTrainer.Artifacts.LossOptions());
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = c.Feeds["input"],
            ["labels"] = (DataType.Int64, [2], [1, 4]),
        };
        foreach (var name in trainable) feeds[name] = (DataType.Float, c.Graph[name].Initializer!.Dims, c.Graph[name].Initializer!.ToDoubles());
        using var runner = new OrtRunner(training);
        var outputs = runner.Run(feeds);
        UpgradeAssert.Close(logits.Data, outputs[1].Data, "logits");
        Assert.Contains(training.Graph.Nodes, n => n.Name.StartsWith("LRN_grad", StringComparison.Ordinal));
        Assert.All(outputs.Skip(2), g => Assert.Contains(g.Data, v => v != 0));
    }

    [Fact]
    public void Upgrade_UnknownOperator_NamesNodeOpAndOpset()
    {
        var c = new UpgradeCase(9);
        c.Node("Scan", [c.Input("x", 2)], 1);
        var e = Assert.Throws<GraphException>(() => OpsetUpgrade.Apply(c.Model));
        Assert.Contains("node 'scan' (Scan) at opset 9", e.Message);
        Assert.Contains("does not know this operator", e.Message);
    }

    [Fact]
    public void Upgrade_OpsetNewerThanRuntime_IsRefused()
    {
        var c = new UpgradeCase(OpsetUpgrade.NewestOpset + 1);
        c.Node("Relu", [c.Input("x", 2)], 1);
        var e = Assert.Throws<GraphException>(() => OpsetUpgrade.Apply(c.Model));
        Assert.Contains($"opset {OpsetUpgrade.NewestOpset + 1}, newer than", e.Message);
    }

    [Fact]
    public void NewestOpset_IsTheNewestThatOnnxRuntimeRuns()
    {
        var newest = new UpgradeCase(OpsetUpgrade.NewestOpset);
        newest.Node("Relu", [newest.Input("x", 2)], 1);
        newest.Run(newest.Model);
        var next = new UpgradeCase(OpsetUpgrade.NewestOpset + 1);
        next.Node("Relu", [next.Input("x", 2)], 1);
        Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => next.Run(next.Model));
    }

    [Fact]
    public void Upgrade_OpsetOlderThanOldest_IsRefused()
    {
        var c = new UpgradeCase(OpsetUpgrade.OldestOpset - 1);
        c.Node("Relu", [c.Input("x", 2)], 1);
        Assert.Throws<GraphException>(() => OpsetUpgrade.Apply(c.Model));
    }

    [Fact]
    public void Upgrade_WorkingOpsetOrNewer_LeavesModelAlone()
    {
        var c = new UpgradeCase(18);
        c.Node("Relu", [c.Input("x", 2)], 1);
        var before = ModelWriter.ToBytes(c.Model);
        Assert.Equal(18, OpsetUpgrade.Apply(c.Model));
        Assert.Equal(before, ModelWriter.ToBytes(c.Model));
    }
}
