using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

public class ClassifierAssemblyTests
{
    private static Dictionary<string, (DataType, long[], double[])> RandomImages(int batch, int seed)
    {
        var random = new Random(seed);
        long[] shape = [batch, 3, 64, 64];
        return new() { ["input"] = (DataType.Float, shape, Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => random.NextDouble()).ToArray()) };
    }

    [Theory]
    [InlineData("resnet_small")]
    [InlineData("mobilenet_v2_small")]
    public void Build_HeadCut_BackboneFeaturesUnchangedAndLogitsHaveNewClasses(string name)
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath(name));
        var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 5, hidden: [16], seed: 7);
        Assert.Equal(["head.0.weight", "head.0.bias", "head.out.weight", "head.out.bias"], assembly.HeadParameters);

        var feeds = RandomImages(2, 1);
        // The original backbone, asked for the same features tensor, must give the same values.
        var original = ModelReader.Load(GeneratedFixtures.ModelPath(name));
        original.Graph.Outputs.Clear();
        original.Graph.Outputs.Add(original.Graph[assembly.FeaturesTensor]);
        var cut = ModelReader.Load(ModelWriter.ToBytes(assembly.Model));
        cut.Graph.Outputs.Add(cut.Graph[assembly.FeaturesTensor]);
        using var originalRunner = new OrtRunner(original);
        using var cutRunner = new OrtRunner(cut);
        var expected = originalRunner.Run(feeds)[0];
        var actual = cutRunner.Run(feeds);
        Assert.Equal(expected.Data, actual[1].Data);
        Assert.Equal([2L, 5L], actual[0].Shape);
    }

    [Fact]
    public void Build_SameSeed_SameHeadWeights_DifferentSeedDiffers()
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        float[] Weights(int seed) => ClassifierAssembly.Build(backbone, BackboneCut.Head, 3, [], seed).Model.Graph["head.out.weight"].Initializer!.ToFloats();
        Assert.Equal(Weights(1), Weights(1));
        Assert.NotEqual(Weights(1), Weights(2));
        Assert.All(Weights(1), w => Assert.InRange(w, -1 / Math.Sqrt(64), 1 / Math.Sqrt(64)));
    }

    [Fact]
    public void Build_CutPointIndex_TruncatesAndPoolsFeatureMaps()
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var assembly = ClassifierAssembly.Build(backbone, new BackboneCut(CutPointIndex: 3), classes: 4, hidden: [], seed: 1);
        Assert.Contains(assembly.Model.Graph.Nodes, n => n.OpType == "GlobalAveragePool" && n.Name.StartsWith("head", StringComparison.Ordinal));
        using var runner = new OrtRunner(assembly.Model);
        Assert.Equal([3L, 4L], runner.Run(RandomImages(3, 2))[0].Shape);
    }

    [Fact]
    public void TrainingGraph_HeadOnly_LossAndGradientsRun()
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("mobilenet_v2_small"));
        var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 5, hidden: [], seed: 3);
        var training = TrainingGraph.BuildTraining(assembly.Model, assembly.HeadParameters, new LossOptions(LabelSmoothing: 0.1));
        var feeds = RandomImages(4, 3);
        feeds["labels"] = (DataType.Int64, [4], [0, 1, 4, 2]);
        foreach (var p in assembly.HeadParameters)
        {
            var t = assembly.Model.Graph[p].Initializer!;
            feeds[p] = (DataType.Float, t.Dims, t.ToDoubles());
        }
        using var runner = new OrtRunner(training);
        var outputs = runner.Run(feeds);
        // Random head on 5 classes: the loss is near ln 5.
        Assert.InRange(outputs[0].Data[0], 1.0, 2.5);
        Assert.Equal(assembly.Model.Graph["head.out.weight"].Initializer!.Dims, outputs[2].Shape);
    }

    [Fact]
    public void Build_FlattenPooling_HeadReadsEveryPosition()
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var assembly = ClassifierAssembly.Build(backbone, new BackboneCut(CutPointIndex: 3), classes: 4, hidden: [], seed: 1, HeadPooling.Flatten);
        var graph = assembly.Model.Graph;
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "GlobalAveragePool" && n.Name.StartsWith("head", StringComparison.Ordinal));
        var features = graph[assembly.FeaturesTensor].Type!.Shape!.Skip(1).Select(d => d.Value!.Value).ToArray();
        Assert.Equal([4, features.Aggregate(1L, (a, d) => a * d)], graph["head.out.weight"].Initializer!.Dims);
        using var runner = new OrtRunner(assembly.Model);
        Assert.Equal([3L, 4L], runner.Run(RandomImages(3, 2))[0].Shape);
    }
}
