using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// Float64 central differences with eps 1e-6 (ONNX Runtime runs both ops in double): errors ~1e-9, so 1e-6 relative.
public class NormalizationGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;

    public static TheoryData<long[], bool, bool> BatchNormCases => new()
    {
        // input shape, scale and bias trainable, running statistics fed as graph inputs (not initializers)
        { [4, 3], true, false },
        { [2, 3, 4, 5], true, false },
        { [2, 3, 4, 5], true, true },
        { [2, 3, 4, 5], false, false },
        { [2, 3, 4, 5], false, true },
        { [2, 4, 7], true, false },
    };

    [Theory]
    [MemberData(nameof(BatchNormCases))]
    public void BatchNormalization_Inference_MatchesNumerical(long[] shape, bool trainableAffine, bool statisticsAsInputs)
    {
        var check = new GradientCheck();
        long channels = shape[1];
        var x = check.Input("x", shape, -2, 3);
        var scale = trainableAffine ? check.Input("scale", [channels], 0.5, 2) : check.Constant("scale", [channels], check.RandomData([channels], 0.5, 2));
        var bias = trainableAffine ? check.Input("bias", [channels]) : check.Constant("bias", [channels], check.RandomData([channels]));
        var mean = statisticsAsInputs ? check.FixedInput("mean", [channels]) : check.Constant("mean", [channels], check.RandomData([channels]));
        var variance = statisticsAsInputs ? check.FixedInput("var", [channels], 0.2, 2) : check.Constant("var", [channels], check.RandomData([channels], 0.2, 2));
        var y = check.Builder.Op("BatchNormalization", [x, scale, bias, mean, variance], Attribute.Of("epsilon", 1e-3f));
        check.Verify(y, Rtol, Atol);
    }

    [Fact]
    public void BatchNormalization_LargeMeanFloat32_WithinTolerance()
    {
        // dScale is sum(GO*X) - mean*sum(GO): check that the cancellation stays harmless when |mean| >> std in float32.
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", [4, 3, 6, 6], 7, 9);
        var scale = check.Input("scale", [3], 0.5, 2);
        var bias = check.Input("bias", [3]);
        var mean = check.Constant("mean", [3], [8, 8.1, 7.9]);
        var variance = check.Constant("var", [3], [0.3, 0.35, 0.25]);
        check.Verify(check.Builder.Op("BatchNormalization", [x, scale, bias, mean, variance]), 2e-3, 2e-3, epsilon: 1e-3);
    }

    [Fact]
    public void BatchNormalization_FrozenAffine_EmitsSingleMulForInputGradient()
    {
        var model = new Model();
        var graph = model.Graph;
        var builder = new GraphBuilder(graph, model.OpsetVersion, "test");
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, 2, 3, 4, 4));
        var w = graph.AddInput("w", TensorType.Of(DataType.Float, 2, 3, 4, 4));
        Value Param(string name, params float[] values) => graph.AddInitializer(name, Tensor.FromFloats([3], values));
        // x * w stands in for the trainable layer before the BN.
        var h = builder.Mul(x, w);
        h.Type = x.Type;
        var y = builder.Op("BatchNormalization", [h, Param("scale", 1, 2, 3), Param("bias", 0, 1, 2), Param("mean", 0, 0, 1), Param("var", 1, 2, 3)]);
        y.Type = x.Type;
        var loss = builder.ReduceSum(y, [0, 1, 2, 3], keepDims: false);
        loss.Type = TensorType.Of(DataType.Float);
        var bn = y.Producer!;

        GradientBuilder.Build(graph, model.OpsetVersion, loss, [w], TrainingContract.Gradient);

        var emitted = graph.Nodes.Where(n => n.Name.StartsWith(bn.Name + "_grad", StringComparison.Ordinal)).ToList();
        var mul = Assert.Single(emitted);
        Assert.Equal("Mul", mul.OpType);
        Assert.True(mul.Input(1)!.IsInitializer, "scale * invstd is folded into a constant");
    }

    [Fact]
    public void BatchNormalization_TrainingMode_ClearError()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3]);
        var p = check.Constant("p", [3], [1, 1, 1]);
        var y = check.Builder.OpN("BatchNormalization", [x, p, p, p, p], 3, Attribute.Of("training_mode", 1L))[0];
        var error = Assert.Throws<GraphException>(() => check.Verify(y, Rtol, Atol));
        Assert.Contains("training_mode", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<long[], long, bool, int> LayerNormCases => new()
    {
        // input shape, axis, with bias, outputs (1 = Y only, 3 = Y, Mean, InvStdDev)
        { [4, 6], -1, true, 1 },
        { [2, 3, 4], -1, false, 1 },
        { [2, 3, 4], 1, true, 3 },
        { [2, 3, 4, 5], 2, true, 1 },
        { [3, 8], 0, true, 1 },
    };

    [Theory]
    [MemberData(nameof(LayerNormCases))]
    public void LayerNormalization_MatchesNumerical(long[] shape, long axis, bool withBias, int outputs)
    {
        var check = new GradientCheck();
        var x = check.Input("x", shape, -2, 3);
        long[] normalized = shape[(int)(axis < 0 ? axis + shape.Length : axis)..];
        var scale = check.Input("scale", normalized, 0.5, 2);
        Value?[] inputs = withBias ? [x, scale, check.Input("bias", normalized)] : [x, scale];
        var y = check.Builder.OpN("LayerNormalization", inputs, outputs, Attribute.Of("axis", axis), Attribute.Of("epsilon", 1e-3f))[0];
        check.Verify(y, Rtol, Atol);
    }

    [Fact]
    public void LayerNormalization_FrozenAffine_MatchesNumerical()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [3, 5], -2, 3);
        var scale = check.Constant("scale", [5], check.RandomData([5], 0.5, 2));
        var bias = check.Constant("bias", [5], check.RandomData([5]));
        check.Verify(check.Builder.Op("LayerNormalization", [x, scale, bias]), Rtol, Atol);
    }

    public static TheoryData<long[], long> LrnCases => new()
    {
        // input shape, size (ONNX Runtime runs 4-D inputs and odd sizes only)
        { [2, 6, 3, 3], 3 },
        { [2, 7, 2, 3], 5 },
        { [1, 3, 2, 2], 7 },      // the window wider than the channels
        { [2, 4, 3, 2], 1 },
    };

    // ONNX Runtime runs LRN in float32 only: float central differences, as for the other float32 checks.
    [Theory]
    [MemberData(nameof(LrnCases))]
    public void Lrn_MatchesNumerical(long[] shape, long size)
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", shape, -2, 2);
        var y = check.Builder.Op("LRN", [x], Attribute.Of("size", size), Attribute.Of("alpha", 0.3f), Attribute.Of("beta", 0.75f), Attribute.Of("bias", 1.5f));
        check.Verify(y, 1e-2, 1e-3, epsilon: 1e-3);
    }
}
