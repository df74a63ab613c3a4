using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

/// <summary>
/// Head dropout's two training forms on a real backbone (torchvision ResNet, small width): the artifact's in-graph
/// sampling (training-mode Dropout and its gradient rule) and the loop's mask inputs give the same loss and
/// gradients for the same masks.
/// </summary>
public class HeadDropoutTests
{
    private const float Ratio = 0.5f;
    private static readonly long[] ImageShape = [4, 3, 64, 64];

    private static ClassifierAssembly Assembly() =>
        ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), BackboneCut.Head, 5, hidden: [16], seed: 1, dropout: Ratio);

    /// <summary>The head and the last residual block train, so gradients cross both dropout layers into the backbone.</summary>
    private static List<string> Trainable(ClassifierAssembly assembly) =>
        [.. Parameters.Of(assembly.Model.Graph).Select(p => p.Name).Where(n => n.StartsWith("layer4.1.", StringComparison.Ordinal) || n.StartsWith("head", StringComparison.Ordinal))];

    private static Dictionary<string, (DataType, long[], double[])> Feeds(Model training, Model forward, IReadOnlyList<string> trainable)
    {
        var random = new Random(11);
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            [ClassifierContract.Input] = (DataType.Float, ImageShape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(ImageShape)).Select(_ => random.NextDouble() * 2 - 1)]),
            [TrainingContract.Labels] = (DataType.Int64, [ImageShape[0]], [0, 3, 1, 4]),
        };
        foreach (var name in trainable)
        {
            var value = forward.Graph[name].Initializer!;
            feeds[name] = (DataType.Float, value.Dims, value.ToDoubles());
        }
        return feeds;
    }

    [Fact]
    public void Forward_HasInferenceDropoutBeforeEachHeadGemm()
    {
        var graph = Assembly().Model.Graph;
        var dropouts = HeadDropout.Nodes(graph);
        Assert.Equal(2, dropouts.Count);
        Assert.All(dropouts, d => Assert.Equal("Gemm", Assert.Single(d.Output().Users).OpType));
        Assert.All(dropouts, d => Assert.Null(d.Input(2)));
        Assert.DoesNotContain(Parameters.Of(graph), p => p.Name.Contains("dropout", StringComparison.Ordinal));
    }

    [Fact]
    public void SampledArtifact_EqualsMaskedLoopGraph_FedTheSameMasks()
    {
        var assembly = Assembly();
        var trainable = Trainable(assembly);
        var loss = new LossOptions();

        // The artifact form, with each Dropout's mask made an output so the loop form can be fed the same draw.
        var sampled = HeadDropout.Sampled(assembly.Model, seed: 7);
        var maskNames = HeadDropout.Nodes(sampled.Graph).Select(n => n.Output(1).Name).ToList();
        sampled.Graph.Outputs.AddRange(maskNames.Select(n => sampled.Graph[n]));
        var artifact = TrainingGraph.BuildTraining(sampled, trainable, loss, maskNames);
        Assert.Equal([ClassifierContract.Input, TrainingContract.Labels, .. trainable], artifact.Graph.Inputs.Select(i => i.Name));
        using var artifactRunner = new OrtRunner(artifact);
        var fromArtifact = artifactRunner.Run(Feeds(artifact, assembly.Model, trainable));

        var (masked, masks) = HeadDropout.Masked(assembly.Model);
        var loop = TrainingGraph.BuildTraining(masked, trainable, loss);
        Assert.Equal([ClassifierContract.Input, TrainingContract.Labels, .. trainable, .. masks.Select(m => m.Name)], loop.Graph.Inputs.Select(i => i.Name));
        Assert.DoesNotContain(loop.Graph.Nodes, n => n.OpType == "Dropout");
        var feeds = Feeds(loop, assembly.Model, trainable);
        int gradients = trainable.Count;
        for (int m = 0; m < masks.Count; m++)
        {
            var (kept, shape) = fromArtifact[2 + gradients + m];
            double dropped = kept.Count(k => k == 0) / (double)kept.Length;
            Assert.InRange(dropped, 0.25, 0.75); // the artifact really samples: about half of the elements are dropped
            Assert.Equal([ImageShape[0], masks[m].Width], shape);
            feeds[masks[m].Name] = (DataType.Float, shape, [.. kept.Select(k => k * (1f / (1f - Ratio)))]);
        }
        using var loopRunner = new OrtRunner(loop);
        var fromLoop = loopRunner.Run(feeds);

        Assert.Equal(fromArtifact[0].Data[0], fromLoop[0].Data[0], 6);
        for (int i = 0; i < gradients; i++)
        {
            var (expected, actual) = (fromArtifact[2 + i].Data, fromLoop[2 + i].Data);
            double error = Math.Sqrt(expected.Zip(actual, (e, a) => (e - a) * (e - a)).Sum());
            double norm = Math.Sqrt(expected.Sum(e => e * e));
            Assert.True(norm > 0, $"{trainable[i]}: zero gradient");
            Assert.True(error <= 1e-6 * norm, $"{trainable[i]}: relative L2 {error / norm:E2}");
        }
    }

    [Fact]
    public void Masked_AllOnesMasks_EqualEvalLoss()
    {
        var assembly = Assembly();
        var trainable = Trainable(assembly);
        var eval = TrainingGraph.BuildEval(assembly.Model, trainable, new LossOptions());
        Assert.Equal([ClassifierContract.Input, TrainingContract.Labels, .. trainable], eval.Graph.Inputs.Select(i => i.Name));
        var (masked, masks) = HeadDropout.Masked(assembly.Model);
        var loop = TrainingGraph.BuildTraining(masked, trainable, new LossOptions());

        var feeds = Feeds(loop, assembly.Model, trainable);
        using var evalRunner = new OrtRunner(eval);
        double evalLoss = evalRunner.Run(feeds)[0].Data[0];
        foreach (var mask in masks)
            feeds[mask.Name] = (DataType.Float, [ImageShape[0], mask.Width], [.. Enumerable.Repeat(1.0, (int)(ImageShape[0] * mask.Width))]);
        using var loopRunner = new OrtRunner(loop);
        Assert.Equal(evalLoss, loopRunner.Run(feeds)[0].Data[0], 6);
    }
}
