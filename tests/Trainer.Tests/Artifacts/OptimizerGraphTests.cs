using System.Text.Json;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

public class OptimizerGraphTests
{
    private static readonly (string Name, long[] Shape)[] Parameters =
    [
        ("backbone.conv.weight", [2, 3, 2, 2]),
        ("head.weight", [3, 4]),
        ("head.bias", [3]),
    ];

    private const int Steps = 5;

    [Fact]
    public void Build_AdamW_InputsAndOutputsFollowContract()
    {
        var model = OptimizerGraph.Build([("w", [2, 3]), ("b", [3])], OptimizerOptions.AdamW());

        Assert.Equal(["learning_rate", "step", "w", "w_grad", "w.exp_avg", "w.exp_avg_sq", "b", "b_grad", "b.exp_avg", "b.exp_avg_sq"],
            model.Graph.Inputs.Select(v => v.Name));
        Assert.Equal(["w.out", "w.exp_avg.out", "w.exp_avg_sq.out", "b.out", "b.exp_avg.out", "b.exp_avg_sq.out"],
            model.Graph.Outputs.Select(v => v.Name));
        Assert.Equal(TensorType.Of(DataType.Float), model.Graph.Inputs[0].Type);
        Assert.Equal(TensorType.Of(DataType.Int64), model.Graph.Inputs[1].Type);
        Assert.All(model.Graph.Outputs.Take(3), o => Assert.Equal(TensorType.Of(DataType.Float, 2, 3), o.Type));
        Assert.All(model.Graph.Nodes, n => Assert.Equal("", n.Domain));
        Assert.Equal((8L, 17L), (model.IrVersion, model.OpsetVersion));
    }

    [Fact]
    public void Build_ManyParameters_ScalarsSharedNotRepeated()
    {
        (string, long[])[] Parameters(int count) => [.. Enumerable.Range(0, count).Select(i => ($"p{i}", new long[] { 2 }))];

        int one = OptimizerGraph.Build(Parameters(1), OptimizerOptions.AdamW()).Graph.Initializers.Count();
        int many = OptimizerGraph.Build(Parameters(20), OptimizerOptions.AdamW()).Graph.Initializers.Count();

        Assert.Equal(one, many);
    }

    [Fact]
    public void Build_NoParameters_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => OptimizerGraph.Build([], OptimizerOptions.Sgd()));

        Assert.Contains("at least one trainable parameter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, new string[0])]
    [InlineData(0.9, new[] { "w.momentum" })]
    public void Build_Sgd_StateOnlyWithMomentum(double momentum, string[] state)
    {
        var model = OptimizerGraph.Build([("w", [4])], OptimizerOptions.Sgd(momentum));

        Assert.Equal(["learning_rate", "step", "w", "w_grad", .. state], model.Graph.Inputs.Select(v => v.Name));
        Assert.Equal(["w.out", .. state.Select(s => s + ".out")], model.Graph.Outputs.Select(v => v.Name));
    }

    public static TheoryData<string> Configurations => [.. OptionsByName.Keys];

    private static readonly Dictionary<string, OptimizerOptions> OptionsByName = new()
    {
        ["sgd"] = OptimizerOptions.Sgd(),
        ["sgd+wd"] = OptimizerOptions.Sgd(weightDecay: 1e-2),
        ["momentum"] = OptimizerOptions.Sgd(momentum: 0.9),
        ["momentum+wd+groups"] = OptimizerOptions.Sgd(momentum: 0.9, weightDecay: 1e-2) with { LrScale = [0.1f, 1f, 2f], DecayWeights = [true, true, false] },
        ["nesterov+wd+groups"] = OptimizerOptions.Sgd(momentum: 0.8, nesterov: true, weightDecay: 1e-2) with { LrScale = [0.1f, 1f, 1f], DecayWeights = [true, false, false] },
        ["adamw"] = OptimizerOptions.AdamW(),
        ["adamw+groups"] = OptimizerOptions.AdamW(weightDecay: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6) with { LrScale = [0.01f, 0.5f, 1f], DecayWeights = [true, true, false] },
        ["adamw-no-decay"] = OptimizerOptions.AdamW(weightDecay: 0),
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Run_FiveSteps_MatchesCSharpReference(string configuration)
    {
        var options = OptionsByName[configuration];
        var random = new Random(1234);
        float[] Draw(long[] shape) => [.. Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => (float)(random.NextDouble() * 4 - 2))];
        var parameters = Parameters.Select(p => Draw(p.Shape)).ToList();
        using var graph = new OptimizerRun(Parameters, options, parameters);
        var reference = new ReferenceOptimizer(options, [.. Parameters.Select(p => p.Name)]);

        for (int step = 1; step <= Steps; step++)
        {
            float learningRate = 0.05f / step;
            var gradients = Parameters.Select(p => Draw(p.Shape)).ToList();
            graph.Step(learningRate, step, gradients);
            reference.Step(learningRate, step, parameters, gradients);

            for (int i = 0; i < Parameters.Length; i++)
                AssertClose(parameters[i], graph.Values[Parameters[i].Name], $"{Parameters[i].Name} after step {step}");
            foreach (var (name, expected) in reference.State)
                AssertClose(expected, graph.Values[name], $"{name} after step {step}");
        }
    }

    public static TheoryData<string> PyTorchCases => [.. PyTorchReference.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    private static JsonDocument PyTorchReference => field ??= JsonDocument.Parse(File.ReadAllText(
        Path.Combine(GeneratedFixtures.Directory, "..", "optimizer", "optimizer_reference.json")));

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void Run_FiveSteps_MatchesPyTorch(string caseName)
    {
        var testCase = PyTorchReference.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == caseName);
        var parameters = testCase.GetProperty("parameters").EnumerateArray().ToList();
        (string Name, long[] Shape)[] shapes = [.. parameters.Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))];
        var decay = parameters.Select(p => p.GetProperty("weight_decay").GetBoolean()).ToArray();
        var lrScale = parameters.Select(p => p.GetProperty("lr_scale").GetSingle()).ToArray();
        double weightDecay = testCase.GetProperty("weight_decay").GetDouble();
        var options = testCase.GetProperty("optimizer").GetString() == "sgd"
            ? OptimizerOptions.Sgd(testCase.GetProperty("momentum").GetDouble(), testCase.GetProperty("nesterov").GetBoolean(), weightDecay)
            : OptimizerOptions.AdamW(weightDecay, testCase.GetProperty("betas")[0].GetDouble(), testCase.GetProperty("betas")[1].GetDouble(), testCase.GetProperty("eps").GetDouble());
        options = options with { LrScale = lrScale, DecayWeights = decay };
        using var graph = new OptimizerRun(shapes, options, [.. parameters.Select(p => Floats(p.GetProperty("initial")))]);

        int step = 0;
        foreach (var expected in testCase.GetProperty("steps").EnumerateArray())
        {
            step++;
            graph.Step(expected.GetProperty("learning_rate").GetSingle(), step, [.. shapes.Select(s => Floats(expected.GetProperty("gradients").GetProperty(s.Name)))]);

            foreach (var tensor in expected.GetProperty("parameters").EnumerateObject().Concat(expected.GetProperty("state").EnumerateObject()))
                AssertClose(Floats(tensor.Value), graph.Values[tensor.Name], $"{caseName}: {tensor.Name} after step {step}");
        }
        Assert.Equal(Steps, step);
    }

    [Fact]
    public void Run_FirstStepWithGarbageMomentumBuffer_BufferIsTheGradient()
    {
        float[] parameter = [1f, -2f], gradient = [0.5f, 0.25f];
        using var graph = new OptimizerRun([("w", [2])], OptimizerOptions.Sgd(momentum: 0.9), [parameter]);
        graph.Values["w.momentum"] = [float.NaN, 1e30f];

        graph.Step(0.1f, 1, [gradient]);

        Assert.Equal(gradient, graph.Values["w.momentum"]);
        Assert.Equal([1f - 0.1f * 0.5f, -2f - 0.1f * 0.25f], graph.Values["w"]);
    }

    [Fact]
    public void Run_ZeroLearningRateScale_ParameterAndDecayFrozen()
    {
        float[] parameter = [1f, -2f];
        var options = OptimizerOptions.AdamW(weightDecay: 0.5) with { LrScale = [0f] };
        using var graph = new OptimizerRun([("w", [2])], options, [parameter]);

        graph.Step(0.1f, 1, [[3f, -4f]]);

        Assert.Equal(parameter, graph.Values["w"]);
        Assert.NotEqual([0f, 0f], graph.Values["w.exp_avg"]);
    }

    [Theory]
    [InlineData("lr-scale-count", "2 learning-rate scales for 1 parameters")]
    [InlineData("decay-count", "0 weight-decay switches for 1 parameters")]
    [InlineData("negative-scale", "learning-rate scale 0 must be finite and >= 0")]
    [InlineData("nesterov", "Nesterov momentum needs a momentum > 0")]
    [InlineData("beta", "beta2 must be in [0, 1)")]
    [InlineData("negative-decay", "weight decay must be >= 0")]
    public void Build_ImpossibleOptions_ThrowsNamingTheSetting(string mistake, string message)
    {
        var options = mistake switch
        {
            "lr-scale-count" => OptimizerOptions.AdamW() with { LrScale = [1f, 2f] },
            "decay-count" => OptimizerOptions.AdamW() with { DecayWeights = [] },
            "negative-scale" => OptimizerOptions.Sgd() with { LrScale = [-1f] },
            "nesterov" => OptimizerOptions.Sgd(nesterov: true),
            "beta" => OptimizerOptions.AdamW(beta2: 1),
            _ => OptimizerOptions.Sgd(weightDecay: -1),
        };

        var error = Assert.Throws<ArgumentException>(() => OptimizerGraph.Build([("w", [2])], options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("w_grad", "'w_grad' would be both the gradient of 'w' and parameter 'w_grad'")]
    [InlineData("w.momentum", "'w.momentum' would be both optimizer state of 'w' and parameter 'w.momentum'")]
    [InlineData("step", "'step' would be both the step input and parameter 'step'")]
    [InlineData("w", "'w' would be both parameter 'w' and parameter 'w'")]
    public void Build_ClashingNames_ThrowsNamingBoth(string secondName, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => OptimizerGraph.Build([("w", [2]), (secondName, [2])], OptimizerOptions.Sgd(momentum: 0.9)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetSingle())];

    /// <summary>
    /// Within 1e-6 relative to the tensor's largest magnitude: PyTorch fuses some multiply-adds, so the last
    /// bits may differ, and in moments such as m = 0.9*m + 0.1*g that cancel, a bit of the terms is more
    /// than a bit of the result.
    /// </summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-6 * Math.Max(Math.Abs(expected[i]), scale);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    /// <summary>Runs the optimizer graph step after step in ONNX Runtime, feeding its outputs back as inputs.</summary>
    private sealed class OptimizerRun : IDisposable
    {
        private readonly OrtRunner _runner;
        private readonly (string Name, long[] Shape)[] _parameters;
        private readonly OptimizerOptions _options;

        /// <summary>Current parameters and state by input name; state starts at zero as the training loop starts it.</summary>
        public Dictionary<string, float[]> Values { get; } = [];

        public OptimizerRun((string Name, long[] Shape)[] parameters, OptimizerOptions options, IReadOnlyList<float[]> initial)
        {
            _parameters = parameters;
            _options = options;
            _runner = new OrtRunner(OptimizerGraph.Build(parameters, options));
            for (int i = 0; i < parameters.Length; i++)
            {
                Values[parameters[i].Name] = [.. initial[i]];
                foreach (var state in OptimizerGraph.StateNames(parameters[i].Name, options))
                    Values[state] = new float[initial[i].Length];
            }
        }

        public void Step(float learningRate, long step, IReadOnlyList<float[]> gradients)
        {
            var feed = new Dictionary<string, (DataType, long[], double[])>
            {
                [TrainingContract.LearningRate] = (DataType.Float, [], [learningRate]),
                [TrainingContract.Step] = (DataType.Int64, [], [step]),
            };
            for (int i = 0; i < _parameters.Length; i++)
            {
                var (name, shape) = _parameters[i];
                feed[name] = (DataType.Float, shape, Doubles(Values[name]));
                feed[TrainingContract.Gradient(name)] = (DataType.Float, shape, Doubles(gradients[i]));
                foreach (var state in OptimizerGraph.StateNames(name, _options))
                    feed[state] = (DataType.Float, shape, Doubles(Values[state]));
            }
            var outputs = _runner.Run(feed);
            for (int i = 0; i < outputs.Count; i++)
            {
                string input = _runner.OutputNames[i][..^".out".Length];
                Values[input] = Array.ConvertAll(outputs[i].Data, v => (float)v);
            }
        }

        private static double[] Doubles(float[] values) => Array.ConvertAll(values, v => (double)v);

        public void Dispose() => _runner.Dispose();
    }
}
