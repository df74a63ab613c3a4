using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Attribute = OnnxTrainer.Ir.Attribute;
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
    [InlineData("squeezenet1_1_small")] // a convolutional classifier: Conv 1x1 -> Relu -> GlobalAveragePool -> Flatten
    [InlineData("resnet_small_folded")]
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
        // A convolutional classifier is named in a note (a headless network can end the same way); a linear one is not.
        if (name.StartsWith("squeezenet", StringComparison.Ordinal))
            Assert.Equal(["cut: head removes the convolutional classifier '/classifier/classifier.1/Conv' (10 classes) and reads '/features/features.12/Concat_output_0'; cut: \"logits\" keeps it"], assembly.Notes);
        else Assert.Empty(assembly.Notes);
        // The old classifier is gone: the only layer that scores classes is the new head.
        Assert.DoesNotContain(assembly.Model.Graph.Initializers, v => v.Name.StartsWith("fc.", StringComparison.Ordinal) || v.Name.StartsWith("classifier.", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_HeadlessExportWithBatchFixedAt1_KeepsWholeGraphAndRunsAnyBatch()
    {
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath(GeneratedFixtures.FeaturesBatch1));
        var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 3, hidden: [], seed: 1);

        Assert.Equal("features", assembly.FeaturesTensor);
        Assert.Equal(2, assembly.Notes.Count);
        Assert.Contains("no classifier and ends in features 'features'", assembly.Notes[0]);
        Assert.Contains("batch at 1", assembly.Notes[1]);
        Assert.Equal(backbone.Graph.Nodes.Count(n => n.OpType == "Conv"), assembly.Model.Graph.Nodes.Count(n => n.OpType == "Conv"));
        // Three images at once give each image's features from the file as exported (batch 1).
        var cut = ModelReader.Load(ModelWriter.ToBytes(assembly.Model));
        cut.Graph.Outputs.Add(cut.Graph["features"]);
        using var runner = new OrtRunner(cut);
        var images = RandomImages(3, 5);
        var together = runner.Run(images);
        Assert.Equal([3L, 3L], together[0].Shape);
        Assert.Equal([3L, 64L], together[1].Shape);
        using var original = new OrtRunner(backbone);
        var (_, _, pixels) = images["input"];
        int plane = pixels.Length / 3;
        for (int i = 0; i < 3; i++)
        {
            var one = original.Run(new Dictionary<string, (DataType, long[], double[])> { ["input"] = (DataType.Float, [1, 3, 64, 64], pixels[(i * plane)..((i + 1) * plane)]) })[0].Data;
            for (int j = 0; j < one.Length; j++)
                Assert.True(Math.Abs(one[j] - together[1].Data[i * 64 + j]) <= 1e-5 * Math.Max(1, Math.Abs(one[j])), $"image {i} feature {j}: {together[1].Data[i * 64 + j]} vs {one[j]}");
        }
    }

    [Fact]
    public void Build_BatchFoldedIntoAReshape_ErrorNamesTheNode()
    {
        // input [1, 3, 8, 8] -> Conv -> Reshape to [4, 64] (the batch of 1 merged away) -> Reshape to [1, 4, 8, 8] -> pool -> Gemm.
        var model = new Model();
        var graph = model.Graph;
        var b = new GraphBuilder(graph, 17, "net");
        var x = graph.AddInput("input", TensorType.Of(DataType.Float, 1, 3, 8, 8));
        var conv = b.Op("Conv", [x, graph.AddInitializer("conv.weight", Tensor.FromFloats([4, 3, 1, 1], new float[12]))]);
        var folded = graph.AddNode("Reshape", [conv, b.Ints(4, 64)], ["folded"], name: "fold_batch").Output();
        var map = b.Reshape(folded, 1, 4, 8, 8);
        var flat = b.Op("Flatten", [b.Op("GlobalAveragePool", [map])]);
        graph.Outputs.Add(b.Op("Gemm", [flat, graph.AddInitializer("fc.weight", Tensor.FromFloats([2, 4], new float[8])), graph.AddInitializer("fc.bias", Tensor.FromFloats([2], new float[2]))], Attribute.Of("transB", 1L)));

        var error = Assert.Throws<GraphException>(() => ClassifierAssembly.Build(model, BackboneCut.Head, classes: 3, hidden: [], seed: 1));

        Assert.Contains("'fold_batch' (Reshape) fixes the batch at 4", error.Message);
        Assert.Contains("cannot be made symbolic", error.Message);
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
    public void Build_HeadLayerBeyondOneTensor_RefusedBeforeAllocating()
    {
        // A flattened feature map times a wide hidden layer: more weights than one tensor can hold (was an allocation failure).
        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));

        var error = Assert.Throws<GraphException>(() =>
            ClassifierAssembly.Build(backbone, new BackboneCut(CutPointIndex: 1), classes: 4, hidden: [65_536], seed: 1, HeadPooling.Flatten));

        Assert.Contains("use fewer head.hidden units or head.pooling: average", error.Message, StringComparison.Ordinal);
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
