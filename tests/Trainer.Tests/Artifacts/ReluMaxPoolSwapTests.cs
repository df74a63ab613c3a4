using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Autodiff;
using OnnxTrainer.Tests.Fixtures;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Artifacts;

public class ReluMaxPoolSwapTests
{
    private static readonly Attribute[] StemPool =
        [Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("strides", [2L, 2L]), Attribute.Of("pads", [1L, 1L, 1L, 1L])];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Apply_ReluBeforeShrinkingMaxPool_SameOutputAndGradientsMatchNumerical(bool ceilMode)
    {
        // Arrange: half the inputs negative, so that many windows are all zeros after the Relu (ties at 0).
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 9, 8]);
        var pooled = check.Builder.Op("MaxPool", [check.Builder.Op("Relu", [x])], [.. StemPool, Attribute.Of("ceil_mode", ceilMode ? 1L : 0L)]);
        ShapeInference.Run(check.Graph, 17);
        var before = check.Evaluate(pooled)[0].Data;

        // Act
        int swapped = ReluMaxPoolSwap.Apply(check.Graph, GradientBuilder.ForwardFromParameters([x]));

        // Assert: the MaxPool reads x, the Relu writes the same output value, with the same values and exact gradients.
        Assert.Equal(1, swapped);
        Assert.Same(x, Assert.Single(check.Graph.Nodes, n => n.OpType == "MaxPool").Input(0));
        Assert.Equal("Relu", pooled.Producer!.OpType);
        Assert.Equal(before, check.Evaluate(pooled)[0].Data);
        check.Verify(pooled, rtol: 1e-6, atol: 1e-8);
    }

    [Theory]
    [InlineData("relu output read elsewhere")]
    [InlineData("pool keeps the size")]
    [InlineData("pool outputs indices")]
    [InlineData("frozen input")]
    public void Apply_NotApplicable_GraphUntouched(string situation)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [1, 2, 6, 6]);
        var relu = check.Builder.Op("Relu", [x]);
        Attribute[] attributes = situation == "pool keeps the size"
            ? [Attribute.Of("kernel_shape", [3L, 3L]), Attribute.Of("pads", [1L, 1L, 1L, 1L])] : StemPool;
        var pool = check.Builder.OpN("MaxPool", [relu], situation == "pool outputs indices" ? 2 : 1, attributes)[0];
        if (situation == "relu output read elsewhere") check.Builder.Add(relu, relu);
        ShapeInference.Run(check.Graph, 17);
        var differentiated = situation == "frozen input" ? [] : GradientBuilder.ForwardFromParameters([x]);

        Assert.Equal(0, ReluMaxPoolSwap.Apply(check.Graph, differentiated));
        Assert.Same(relu, pool.Producer!.Input(0));
    }

    [Fact]
    public void TrainingGraph_SmallResNet_StemReluFollowsItsMaxPool()
    {
        // WholeModelGradientTests checks this same training graph's gradients against PyTorch.
        var forward = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var all = TrainingGraph.BuildTraining(forward, [.. Parameters.Of(forward.Graph).Select(p => p.Name)], new LossOptions());
        var headOnly = TrainingGraph.BuildTraining(forward, ["fc.weight", "fc.bias"], new LossOptions());

        var pool = Assert.Single(all.Graph.Nodes, n => n.OpType == "MaxPool");
        Assert.Equal("Conv", pool.Input(0)!.Producer!.OpType);
        Assert.Single(pool.Output().Users, u => u.OpType == "Relu"); // its gradient reads the pooled values too
        Assert.Equal("Relu", Assert.Single(headOnly.Graph.Nodes, n => n.OpType == "MaxPool").Input(0)!.Producer!.OpType);
    }
}
