using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Autodiff;

/// <summary>
/// Real architectures from torchvision (small width): our training graph, run in ONNX Runtime in float32,
/// against PyTorch autograd in float64 on the same weights, input and labels (fixtures from
/// tests/fixtures/generate_models.py). Per tensor, the relative L2 error must be within 1e-3, or within
/// 10x PyTorch's own float32-vs-float64 error for that tensor where cancellation makes that larger.
/// </summary>
public class WholeModelGradientTests
{
    public static TheoryData<string> Models => [.. GeneratedFixtures.SmallModels];

    [Theory]
    [MemberData(nameof(Models))]
    public void TrainingGraph_AllParametersTrainable_MatchesTorchFloat64(string name) =>
        AssertGradientsMatchReference(GeneratedFixtures.Load(name), name);

    /// <summary>Builds the training graph of <paramref name="forward"/> with every parameter trainable and checks it against <paramref name="referenceName"/>'s reference.</summary>
    internal static void AssertGradientsMatchReference(Model forward, string referenceName)
    {
        var reference = SafeTensors.Read(GeneratedFixtures.ReferencePath(referenceName)).Tensors;
        var parameters = Parameters.Of(forward.Graph).ToList();
        var training = TrainingGraph.BuildTraining(forward, [.. parameters.Select(p => p.Name)], new LossOptions());

        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            [TrainingGraph.InputName] = (DataType.Float, reference["input"].Dims, reference["input"].ToDoubles()),
            [TrainingGraph.LabelsName] = (DataType.Int64, reference["labels"].Dims, reference["labels"].ToDoubles()),
        };
        foreach (var p in parameters)
            feeds[p.Name] = (DataType.Float, p.Initializer!.Dims, p.Initializer.ToDoubles());
        using var runner = new OrtRunner(training);
        var outputs = runner.Run(feeds);

        Assert.Equal(reference["loss"].ToDoubles()[0], outputs[0].Data[0], 4);
        var failures = new List<string>();
        for (int i = 0; i < parameters.Count; i++)
        {
            string p = parameters[i].Name;
            double error = RelativeL2(outputs[i + 2].Data, reference["grad/" + p].ToDoubles());
            double allowed = Math.Max(1e-3, 10 * reference["grad32err/" + p].ToDoubles()[0]);
            if (!(error <= allowed)) failures.Add($"{p}: relative L2 error {error:E2} > {allowed:E2}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TrainingGraph_OnlyHeadTrainable_HasNoBackwardNodesInBackbone()
    {
        var forward = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var training = TrainingGraph.BuildTraining(forward, ["fc.weight", "fc.bias"], new LossOptions());
        var graph = training.Graph;
        // Backward nodes are named after the forward node they differentiate: only the head, the loss and the outputs may appear.
        var backward = graph.Nodes.Where(n => n.Name.Contains("_grad")).ToList();
        Assert.NotEmpty(backward);
        Assert.All(backward, n => Assert.DoesNotContain("Conv", n.Name));
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "ConvTranspose");
        Assert.All(graph.Nodes.Where(n => n.OpType == "Conv"), n => Assert.True(n.Input(1)!.IsInitializer, $"{n.Name} weight must stay an initializer"));
        Assert.Equal(["input", "labels", "fc.weight", "fc.bias"], graph.Inputs.Select(v => v.Name));
        Assert.Equal(["loss", "logits", "fc.weight_grad", "fc.bias_grad"], graph.Outputs.Select(v => v.Name));
    }

    private static double RelativeL2(double[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-30);
    }
}
