using Xunit;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Autodiff;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Surgery;

public class ConvBatchNormFoldingTests
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Fold_TrainableConvWeight_SameOutputAndGradientsMatchNumerical(bool trainableAffine, bool convBias)
    {
        // Arrange: Conv (trainable weight, optional bias) -> inference BatchNormalization with constant statistics
        // (float: ONNX Runtime's CPU Conv has no double kernel).
        var check = new GradientCheck(DataType.Float);
        var x = check.FixedInput("x", [2, 3, 6, 5]);
        var w = check.Input("w", [4, 3, 3, 3]);
        var bias = convBias ? check.Input("b", [4]) : null;
        var scale = trainableAffine ? check.Input("scale", [4], 0.5, 2) : check.Constant("scale", [4], [0.7, 1.3, -0.9, 2.0]);
        var shift = trainableAffine ? check.Input("shift", [4]) : check.Constant("shift", [4], [0.1, -0.2, 0.3, 0.0]);
        var mean = check.Constant("mean", [4], [0.5, -1.0, 0.25, 2.0]);
        var variance = check.Constant("var", [4], [0.8, 2.5, 0.1, 1.0]);
        var conv = check.Builder.Op("Conv", [x, w, bias], Attribute.Of("pads", new long[] { 1, 1, 1, 1 }), Attribute.Of("strides", new long[] { 2, 1 }));
        var y = check.Builder.Op("BatchNormalization", [conv, scale, shift, mean, variance], Attribute.Of("epsilon", 1e-3f));
        var before = check.Evaluate(y)[0].Data;
        var trainable = check.Graph.Inputs.Where(v => v != x).ToHashSet();

        // Act
        int folded = ConvBatchNormFolding.Apply(check.Graph, 17, trainable.Contains);

        // Assert: one Conv left, no BatchNormalization, the same function, and gradients that match central differences.
        Assert.Equal(1, folded);
        Assert.DoesNotContain(check.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Single(check.Graph.Nodes, n => n.OpType == "Conv");
        var after = check.Evaluate(y)[0].Data;
        Assert.Equal(before.Length, after.Length);
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i], 1e-5 * (1 + Math.Abs(before[i])));
        check.Verify(y, rtol: 1e-3, atol: 2e-3, epsilon: 0.05);
    }

    [Theory]
    [InlineData("frozen weight")]
    [InlineData("conv output also read elsewhere")]
    [InlineData("training mode")]
    [InlineData("trainable running mean")]
    public void Fold_NotApplicable_GraphUntouched(string situation)
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.FixedInput("x", [1, 2, 4, 4]);
        var w = situation == "frozen weight" ? check.Constant("w", [3, 2, 1, 1], check.RandomData([3, 2, 1, 1])) : check.Input("w", [3, 2, 1, 1]);
        var mean = situation == "trainable running mean" ? check.Input("mean", [3]) : check.Constant("mean", [3], [0, 1, 2]);
        var conv = check.Builder.Op("Conv", [x, w]);
        var y = check.Builder.Op("BatchNormalization", [conv, check.Constant("scale", [3], [1, 2, 3]), check.Constant("shift", [3], [0, 0, 1]),
            mean, check.Constant("var", [3], [1, 1, 1])], situation == "training mode" ? [Attribute.Of("training_mode", 1L)] : []);
        if (situation == "conv output also read elsewhere") check.Builder.Add(y, conv);
        var nodes = check.Graph.Nodes.Select(n => n.OpType).ToList();

        int folded = ConvBatchNormFolding.Apply(check.Graph, 17, check.Graph.Inputs.Where(v => v != x).ToHashSet().Contains);

        Assert.Equal(0, folded);
        Assert.Equal(nodes, check.Graph.Nodes.Select(n => n.OpType));
    }
}
