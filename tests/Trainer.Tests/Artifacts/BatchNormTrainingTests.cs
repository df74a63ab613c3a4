using System.Text.Json;
using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Architectures;
using OnnxTrainer.Tests.Autodiff;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Artifacts;

public class BatchNormTrainingTests
{
    public static TheoryData<string> TorchCases => ["bn2d", "bn1d"];

    [Theory]
    [MemberData(nameof(TorchCases))]
    public void Apply_TorchReference_MatchesBatchNormTrainMode(string name)
    {
        // Reference: torch nn.BatchNorm{1,2}d in train mode, float64 (tests/fixtures/architectures/generate_references.py).
        var reference = TorchBatchNorm(name);
        var model = new Model();
        var graph = model.Graph;
        long[] shape = reference.Long("shape");
        long[] channels = [shape[1]];
        var x = graph.AddInput("x", TensorType.Of(DataType.Double, shape));
        Value Initializer(string key) => graph.AddInitializer(key, Tensor.FromDoubles(channels, reference.Doubles(key)));
        var y = new GraphBuilder(graph, model.OpsetVersion, "bn").Op("BatchNormalization",
            [x, Initializer("weight"), Initializer("bias"), Initializer("running_mean"), Initializer("running_var")],
            Attribute.Of("epsilon", (float)reference.Double("epsilon")), Attribute.Of("momentum", (float)(1 - reference.Double("momentum"))));
        y.Type = x.Type;
        graph.Outputs.Add(y);

        var statistics = Assert.Single(BatchNormTraining.Apply(graph, model.OpsetVersion, _ => true));
        List<(double[] Data, long[] Shape)> outputs;
        using (var runner = new OrtRunner(model))
            outputs = runner.Run(new Dictionary<string, (DataType, long[], double[])> { ["x"] = (DataType.Double, shape, reference.Doubles("input")) });

        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal(["running_mean.batch", "running_var.batch"], new[] { statistics.BatchMean, statistics.BatchVariance });
        Assert.Equal(["running_mean", "running_var"], new[] { statistics.RunningMean, statistics.RunningVariance });
        Assert.Equal(reference.Double("momentum"), statistics.Momentum);
        AssertClose(reference.Doubles("output"), outputs[0].Data, 1e-12);
        AssertClose(reference.Doubles("batch_mean"), outputs[1].Data, 1e-12);
        AssertClose(reference.Doubles("batch_var_unbiased"), outputs[2].Data, 1e-12);
        float[] runningMean = Array.ConvertAll(reference.Doubles("running_mean"), v => (float)v);
        float[] runningVariance = Array.ConvertAll(reference.Doubles("running_var"), v => (float)v);
        BatchNormTraining.UpdateRunning(runningMean, Array.ConvertAll(outputs[1].Data, v => (float)v), statistics.Momentum, runningMean);
        BatchNormTraining.UpdateRunning(runningVariance, Array.ConvertAll(outputs[2].Data, v => (float)v), statistics.Momentum, runningVariance);
        AssertClose(reference.Doubles("running_mean_after"), Array.ConvertAll(runningMean, v => (double)v), 1e-6);
        AssertClose(reference.Doubles("running_var_after"), Array.ConvertAll(runningVariance, v => (double)v), 1e-6);
    }

    public static TheoryData<long[]> GradientShapes => new() { { [4, 3, 5, 5] }, { [2, 3, 4, 5] }, { [6, 3] }, { [3, 2, 7] } };

    [Theory]
    [MemberData(nameof(GradientShapes))]
    public void Apply_GradientOfDecomposition_MatchesNumerical(long[] shape)
    {
        var check = new GradientCheck();
        long channels = shape[1];
        var x = check.Input("x", shape, -2, 3);
        var scale = check.Input("scale", [channels], 0.5, 2);
        var bias = check.Input("bias", [channels]);
        var mean = check.Constant("mean", [channels], check.RandomData([channels]));
        var variance = check.Constant("var", [channels], check.RandomData([channels], 0.2, 2));
        var y = check.Builder.Op("BatchNormalization", [x, scale, bias, mean, variance]);
        y.Type = x.Type;

        BatchNormTraining.Apply(check.Graph, check.Builder.Opset, _ => true);
        // The checker forms its own outputs from y; the batch statistics carry no gradient.
        check.Graph.Outputs.Clear();

        check.Verify(y, rtol: 1e-6, atol: 1e-8);
    }

    [Fact]
    public void Apply_PredicateSelectsNone_GraphUnchanged()
    {
        var graph = ArchitectureFactory.Create("resnet", TinyResNet).Graph;
        int nodes = graph.Nodes.Count;

        var statistics = BatchNormTraining.Apply(graph, 17, _ => false);

        Assert.Empty(statistics);
        Assert.Equal(nodes, graph.Nodes.Count);
        Assert.Single(graph.Outputs);
    }

    [Fact]
    public void Apply_SelectedNodesOnly_OthersStayInInferenceForm()
    {
        var graph = ArchitectureFactory.Create("resnet", TinyResNet).Graph;
        int batchNorms = graph.Nodes.Count(n => n.OpType == "BatchNormalization");

        var statistics = BatchNormTraining.Apply(graph, 17, n => n.Input(1)!.Name.StartsWith("layer2.", StringComparison.Ordinal));

        Assert.Equal(["layer2.0.bn1", "layer2.0.bn2", "layer2.0.downsample.1"], statistics.Select(s => s.RunningMean[..^".running_mean".Length]));
        Assert.Equal(batchNorms - 3, graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(["logits", .. statistics.SelectMany(s => new[] { s.BatchMean, s.BatchVariance })], graph.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void UpdateRunning_TorchFormula_InPlace()
    {
        float[] running = [0f, 1f, -2f];

        BatchNormTraining.UpdateRunning(running, [1f, 3f, 2f], 0.1, running);

        Assert.Equal([0.1f, 1.2f, -1.6f], running);
    }

    [Fact]
    public void TorchMomentum_OnnxDefault_IsExactlyTorchDefault()
    {
        var node = new GraphBuilder(new Graph(), 17, "t").Op("BatchNormalization", []).Producer!;

        Assert.Equal(0.1, BatchNormTraining.TorchMomentum(node));
    }

    [Fact]
    public void BuildTraining_TinyResNetWithTrainingBatchNorm_LossDecreasesWithSgd()
    {
        var forward = ArchitectureFactory.Create("resnet", TinyResNet);
        var statistics = BatchNormTraining.Apply(forward.Graph, forward.OpsetVersion, _ => true);
        var parameters = Parameters.Of(forward.Graph).ToList();
        var runningStatistics = statistics.ToDictionary(s => s.BatchMean, s => forward.Graph[s.RunningMean].Initializer!.ToFloats());
        foreach (var s in statistics) runningStatistics[s.BatchVariance] = forward.Graph[s.RunningVariance].Initializer!.ToFloats();
        string[] kept = [.. statistics.SelectMany(s => new[] { s.BatchMean, s.BatchVariance })];

        var training = TrainingGraph.BuildTraining(forward, [.. parameters.Select(p => p.Name)], new LossOptions(), kept);

        Assert.DoesNotContain(training.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal(["loss", "logits", .. parameters.Select(p => p.Name + "_grad"), .. kept], training.Graph.Outputs.Select(o => o.Name));
        var random = new Random(5);
        const int batch = 8;
        long[] inputShape = [batch, TinyResNet.InputChannels, TinyResNet.InputSize, TinyResNet.InputSize];
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, inputShape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(inputShape)).Select(_ => random.NextDouble() * 2 - 1)]),
            ["labels"] = (DataType.Int64, [batch], [.. Enumerable.Range(0, batch).Select(i => (double)(i % TinyResNet.Classes))]),
        };
        var weights = parameters.ToDictionary(p => p.Name, p => p.Initializer!.ToDoubles());
        foreach (var p in parameters) feeds[p.Name] = (DataType.Float, p.Initializer!.Dims, weights[p.Name]);
        const double learningRate = 0.1;
        var losses = new List<double>();
        using var runner = new OrtRunner(training);
        for (int step = 0; step < 20; step++)
        {
            var outputs = runner.Run(feeds);
            losses.Add(outputs[0].Data[0]);
            for (int i = 0; i < parameters.Count; i++)
            {
                var w = weights[parameters[i].Name];
                var g = outputs[i + 2].Data;
                for (int j = 0; j < w.Length; j++) w[j] -= learningRate * g[j];
            }
            for (int k = 0; k < kept.Length; k++)
            {
                var running = runningStatistics[kept[k]];
                var batchValue = Array.ConvertAll(outputs[2 + parameters.Count + k].Data, v => (float)v);
                BatchNormTraining.UpdateRunning(running, batchValue, statistics[k / 2].Momentum, running);
            }
        }

        string trace = string.Join(", ", losses.Select(l => l.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(losses.Zip(losses.Skip(1)).All(pair => pair.Second < pair.First), $"loss should fall at every step on a fixed batch: {trace}");
        Assert.True(losses[^1] < 0.75 * losses[0], $"loss should fall by a quarter in 20 steps: {trace}");
        // The running means moved from their fresh zeros towards the batch means.
        Assert.Contains(runningStatistics[statistics[0].BatchMean], v => v != 0);
    }

    [Fact]
    public void BuildTraining_TinyResNetWithTrainingBatchNorm_MatchesTorchTrainMode()
    {
        // Reference: the same ResNet in torch, model.train(), float64, one forward/backward (generate_references.py).
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(ArchitectureReferences.Folder, "resnet_train_step.json")));
        var reference = document.RootElement;
        var o = reference.GetProperty("options");
        int size = o.GetProperty("input_size").GetInt32();
        var options = new ArchitectureOptions
        {
            Width = o.GetProperty("width").GetInt32(), BlocksPerStage = [.. o.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt32())],
            InputChannels = o.GetProperty("in_channels").GetInt32(), Classes = o.GetProperty("classes").GetInt32(),
            SmallInputStem = o.GetProperty("small_stem").GetBoolean(), InputSize = size,
        };
        double[] Doubles(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];
        var forward = ArchitectureFactory.Create("resnet", options);
        var statistics = BatchNormTraining.Apply(forward.Graph, forward.OpsetVersion, _ => true);
        var parameters = Parameters.Of(forward.Graph).ToList();
        string[] kept = [.. statistics.SelectMany(s => new[] { s.BatchMean, s.BatchVariance })];
        var training = TrainingGraph.BuildTraining(forward, [.. parameters.Select(p => p.Name)], new LossOptions(), kept);
        var labels = Doubles(reference.GetProperty("labels"));
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, [labels.Length, options.InputChannels, size, size], Doubles(reference.GetProperty("input"))),
            ["labels"] = (DataType.Int64, [labels.Length], labels),
        };
        foreach (var p in parameters)
            feeds[p.Name] = (DataType.Float, p.Initializer!.Dims, Doubles(reference.GetProperty("parameters").GetProperty(p.Name)));

        List<(double[] Data, long[] Shape)> outputs;
        using (var runner = new OrtRunner(training)) outputs = runner.Run(feeds);

        // ONNX Runtime computes in float32: compare with the float64 reference at float32 accuracy.
        Assert.Equal(reference.GetProperty("loss").GetDouble(), outputs[0].Data[0], 5);
        Assert.True(RelativeL2(Doubles(reference.GetProperty("logits")), outputs[1].Data) < 1e-5, "logits");
        for (int i = 0; i < parameters.Count; i++)
        {
            double error = RelativeL2(Doubles(reference.GetProperty("gradients").GetProperty(parameters[i].Name)), outputs[i + 2].Data);
            Assert.True(error < 1e-4, $"{parameters[i].Name}_grad: relative L2 error {error:E2}");
        }
        for (int k = 0; k < kept.Length; k++)
        {
            var s = statistics[k / 2];
            string runningName = k % 2 == 0 ? s.RunningMean : s.RunningVariance;
            var running = forward.Graph[runningName].Initializer!.ToFloats();
            BatchNormTraining.UpdateRunning(running, Array.ConvertAll(outputs[2 + parameters.Count + k].Data, v => (float)v), s.Momentum, running);
            AssertClose(Doubles(reference.GetProperty("running_statistics_after").GetProperty(runningName)), Array.ConvertAll(running, v => (double)v), 1e-5);
        }
    }

    [Fact]
    public void BuildTraining_KeptOutputMissing_ClearError()
    {
        var forward = ArchitectureFactory.Create("resnet", TinyResNet);

        var error = Assert.Throws<GraphException>(() => TrainingGraph.BuildTraining(forward, ["fc.weight"], new LossOptions(), ["bn1.running_mean.batch"]));

        Assert.Contains("bn1.running_mean.batch", error.Message, StringComparison.Ordinal);
    }

    /// <summary>ResNet's topology (stem, two stages with a downsample shortcut, fc) at a size that trains in a second.</summary>
    private static readonly ArchitectureOptions TinyResNet = new()
    {
        Width = 4, BlocksPerStage = [1, 1], Classes = 3, InputChannels = 3, InputSize = 8, SmallInputStem = true, Seed = 11,
    };

    private static double RelativeL2(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = expected.Zip(actual).Sum(p => (p.First - p.Second) * (p.First - p.Second));
        return Math.Sqrt(difference / Math.Max(expected.Sum(v => v * v), 1e-30));
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:G17}, got {actual[i]:G17}");
    }

    private static JsonCase TorchBatchNorm(string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(ArchitectureReferences.Folder, "batchnorm_train.json")));
        return new JsonCase(document.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name).Clone());
    }

    private sealed record JsonCase(JsonElement Element)
    {
        public double Double(string key) => Element.GetProperty(key).GetDouble();
        public double[] Doubles(string key) => [.. Element.GetProperty(key).EnumerateArray().Select(e => e.GetDouble())];
        public long[] Long(string key) => [.. Element.GetProperty(key).EnumerateArray().Select(e => e.GetInt64())];
    }
}
