using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

// Piecewise activations are checked away from their kinks (inputs drawn so no element lies within
// epsilon of a breakpoint). Float32 ops: eps 1e-3 and rtol 1e-2/atol 1e-3 (the forward is float32, the loss float64).
public class ActivationGradientTests
{
    private static double[] AwayFrom(GradientCheck check, long[] shape, double low, double high, params double[] kinks) =>
        check.RandomData(shape, low, high).Select(v => kinks.Any(k => Math.Abs(v - k) < 0.05) ? v + 0.1 : v).ToArray();

    [Theory]
    [InlineData("Relu", DataType.Float)]
    [InlineData("Relu", DataType.Double)]
    [InlineData("Sigmoid", DataType.Float)]
    [InlineData("Tanh", DataType.Double)]
    [InlineData("Erf", DataType.Float)]
    [InlineData("HardSwish", DataType.Float)]
    [InlineData("Softmax", DataType.Double)]
    [InlineData("LogSoftmax", DataType.Double)]
    public void Activation_MatchesNumerical(string op, DataType type)
    {
        var check = new GradientCheck(type);
        long[] shape = [2, 3, 4, 5];
        var x = check.Input("x", shape, AwayFrom(check, shape, -5, 5, 0, -3, 3));
        Verify(check, check.Builder.Op(op, [x]), type);
    }

    [Theory]
    [InlineData(0.01f, DataType.Float)]
    [InlineData(0.2f, DataType.Double)]
    public void LeakyRelu_MatchesNumerical(float alpha, DataType type)
    {
        var check = new GradientCheck(type);
        long[] shape = [3, 7];
        var x = check.Input("x", shape, AwayFrom(check, shape, -2, 2, 0));
        Verify(check, check.Builder.Op("LeakyRelu", [x], Attribute.Of("alpha", alpha)), type);
    }

    [Theory]
    [InlineData(0.0, 6.0)]
    [InlineData(-1.0, 1.0)]
    [InlineData(0.25, 0.75)]
    public void Clip_ConstantBounds_MatchesNumerical(double low, double high)
    {
        var check = new GradientCheck(DataType.Float);
        long[] shape = [4, 6, 3];
        var x = check.Input("x", shape, AwayFrom(check, shape, -8, 8, low, high));
        var b = check.Builder;
        Verify(check, b.Op("Clip", [x, b.Scalar(low), b.Scalar(high)]), DataType.Float);
    }

    [Fact]
    public void Clip_BoundsFromConstantNodes_FloatStepMaskMatchesNumerical()
    {
        // ReLU6 as torch exports it: min and max come from Constant nodes, not initializers. The mask must still be the
        // exact float step (HardSigmoid), not bool comparisons and a Cast, which ran ~2.5x slower in MobileNetV2's step.
        var check = new GradientCheck(DataType.Float);
        long[] shape = [4, 6, 3];
        var x = check.Input("x", shape, AwayFrom(check, shape, -8, 8, 0, 6));
        var b = check.Builder;
        Value Bound(float v) => b.Op("Constant", [], Attribute.Of("value", Tensor.Scalar(v)));

        Verify(check, b.Op("Clip", [x, Bound(0), Bound(6)]), DataType.Float);

        var backward = check.Graph.Nodes.Where(n => n.Name.Contains("Clip_grad", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(backward, n => n.OpType is "Greater" or "Less" or "And" or "Cast");
        Assert.Contains(backward, n => n.OpType == "HardSigmoid");
    }

    [Fact]
    public void ReluAndRelu6Masks_ExactNextToTheirBounds()
    {
        // The masks are float steps (HardSigmoid with a steep slope): a value one step inside a bound must pass its whole
        // gradient, the bound itself and one step outside none. 1e-35 is a normal float far below any slope of 2^100.
        float[] values = [1e-35f, 1.2e-38f, 0f, -1e-35f, 6f, MathF.BitDecrement(6f), MathF.BitIncrement(6f), 3f];
        double[] relu = [1, 1, 0, 0, 1, 1, 1, 1], relu6 = [1, 1, 0, 0, 0, 1, 0, 1];
        var model = new Model();
        model.Opsets[""] = 17;
        var graph = model.Graph;
        var b = new GraphBuilder(graph, 17, "t");
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, values.Length));
        var loss = b.ReduceSum(b.Add(b.Op("Relu", [x]), b.Op("Clip", [x, b.Scalar(0), b.Scalar(6)])), [0], keepDims: false);
        graph.Outputs.Add(loss);
        ShapeInference.Run(graph, 17);
        GradientBuilder.Build(graph, 17, loss, [x], TrainingContract.Gradient);
        using var runner = new OrtRunner(model);

        var dx = runner.Run(new Dictionary<string, (DataType, long[], double[])>
        {
            ["x"] = (DataType.Float, [values.Length], Array.ConvertAll(values, v => (double)v)),
        })[1].Data;

        Assert.Equal(relu.Zip(relu6, (r, r6) => r + r6), dx);
    }

    [Fact]
    public void Clip_OnlyUpperBound_MatchesNumerical()
    {
        var check = new GradientCheck(DataType.Float);
        long[] shape = [20];
        var x = check.Input("x", shape, AwayFrom(check, shape, -3, 3, 1));
        Verify(check, check.Builder.Op("Clip", [x, null, check.Builder.Scalar(1)]), DataType.Float);
    }

    [Fact]
    public void HardSigmoid_MatchesNumerical()
    {
        var check = new GradientCheck(DataType.Float);
        long[] shape = [30];
        var x = check.Input("x", shape, AwayFrom(check, shape, -6, 6, -2.5, 2.5));
        Verify(check, check.Builder.Op("HardSigmoid", [x], Attribute.Of("alpha", 0.2f), Attribute.Of("beta", 0.5f)), DataType.Float);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void Gelu_MatchesNumerical(string approximate)
    {
        var check = new GradientCheck(DataType.Float, opset: 20);
        var x = check.Input("x", [4, 8], -4, 4);
        Verify(check, check.Builder.Op("Gelu", [x], Attribute.Of("approximate", approximate)), DataType.Float);
    }

    [Fact]
    public void Softmax_Opset11_NormalizesTrailingAxes()
    {
        var check = new GradientCheck(DataType.Double, opset: 11);
        var x = check.Input("x", [2, 3, 4]);
        check.Verify(check.Builder.Op("Softmax", [x], Attribute.Of("axis", 1L)), 1e-6, 1e-8);
    }

    [Fact]
    public void ReluMask_Float_UsesNoBoolTensors()
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", [8], AwayFrom(check, [8], -1, 1, 0));
        Verify(check, check.Builder.Op("Relu", [x]), DataType.Float);
        Assert.DoesNotContain(check.Graph.Nodes, n => n.OpType is "Greater" or "Where" or "Cast" && n.Name.Contains("Relu_grad"));
    }

    private static void Verify(GradientCheck check, Value y, DataType type)
    {
        if (type == DataType.Double) check.Verify(y, 1e-6, 1e-8);
        else check.Verify(y, 1e-2, 1e-3, epsilon: 1e-3);
    }
}
