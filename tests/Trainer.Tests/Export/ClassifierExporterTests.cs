using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Onnx;
using Xunit;
using Xunit.Abstractions;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Export;

public class ClassifierExporterTests(ITestOutputHelper output)
{
    /// <summary>
    /// Export and eval graph run the same operators on the same weights; only ONNX Runtime's fusions
    /// (Conv+BN folding, Gemm packing on initializers) reorder float32 sums. Stated tolerance: 1e-4
    /// absolute plus 1e-4 relative per logit.
    /// </summary>
    private const double Tolerance = 1e-4;

    private static Dictionary<string, (DataType, long[], double[])> Images(int batch, int seed) =>
        new() { ["input"] = (DataType.Float, [batch, 3, 64, 64], TrainedClassifier.RandomImages(batch, seed)) };

    [Theory]
    [InlineData("resnet_small")]
    [InlineData("mobilenet_v2_small")]
    public void Build_TrainedParameters_LogitsEqualEvalGraphOnSameBatch(string backbone)
    {
        var run = TrainedClassifier.Create(backbone);
        var eval = TrainingGraph.BuildEval(run.Forward, [.. run.Parameters.Keys], new LossOptions());
        var feeds = Images(3, 5);
        var evalFeeds = new Dictionary<string, (DataType, long[], double[])>(feeds) { ["labels"] = (DataType.Int64, [3], [0, 1, 2]) };
        foreach (var (name, tensor) in run.Parameters) evalFeeds[name] = (DataType.Float, tensor.Dims, tensor.ToDoubles());

        using var evalRunner = new OrtRunner(eval);
        using var exportRunner = new OrtRunner(run.Build());
        var expected = evalRunner.Run(evalFeeds)[1];
        var outputs = exportRunner.Run(feeds);

        Assert.Equal(["logits", "probabilities"], exportRunner.OutputNames);
        Assert.Equal([3L, 4L], outputs[0].Shape);
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.InRange(outputs[0].Data[i] - expected.Data[i], -Tolerance * (1 + Math.Abs(expected.Data[i])), Tolerance * (1 + Math.Abs(expected.Data[i])));
        AssertSoftmax(outputs[0].Data, outputs[1].Data, classes: 4);
    }

    [Fact]
    public void Build_UntrainedValues_DifferFromTrained()
    {
        var run = TrainedClassifier.Create();
        var untrained = run with { Parameters = new Dictionary<string, Tensor>() };
        using var trained = new OrtRunner(run.Build());
        using var initial = new OrtRunner(untrained.Build());
        Assert.NotEqual(initial.Run(Images(1, 1))[0].Data, trained.Run(Images(1, 1))[0].Data);
    }

    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_BASIC)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_EXTENDED)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL)]
    public void Build_EveryOptimizationLevel_RunsAtAnyBatchWithSameLogits(GraphOptimizationLevel level)
    {
        var model = TrainedClassifier.Create("mobilenet_v2_small").Build();
        using var reference = new OrtRunner(model, GraphOptimizationLevel.ORT_DISABLE_ALL);
        using var runner = new OrtRunner(model, level);
        foreach (int batch in new[] { 1, 5 })
        {
            var expected = reference.Run(Images(batch, batch))[0];
            var actual = runner.Run(Images(batch, batch))[0];
            Assert.Equal([batch, 4L], actual.Shape);
            for (int i = 0; i < expected.Data.Length; i++) Assert.Equal(expected.Data[i], actual.Data[i], Tolerance);
        }
    }

    [Fact]
    public void Save_Metadata_RoundTripsThroughTheInferenceReaders()
    {
        var run = TrainedClassifier.Create(labels: ["tabby \"cat\"", "chien", "魚"]);
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        ClassifierExporter.Save(run.Forward, run.Parameters, run.Export, path);

        var model = ModelReader.Load(path);
        var metadata = model.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(run.Export.Labels, ClassifierMetadata.ParseLabels(metadata["labels"]));
        Assert.Equal(TrainedClassifier.Preprocessing, PreprocessingSpec.FromMetadata(metadata));
        Assert.Equal(run.Export.Recipe, metadata["recipe"]);
        Assert.Equal(run.Export.Metrics, metadata["metrics"]);
        Assert.Equal("[64,64]", metadata["input_size"]);
        Assert.Equal("NCHW", metadata["layout"]);
        Assert.Equal("N", model.Graph.Inputs.Single().Type!.Shape![0].Symbol);
        Assert.True(model.OpsetVersion >= 13);
    }

    [Fact]
    public void Build_DropoutAndTrainingModeBatchNorm_BecomeInferenceForm()
    {
        var run = TrainedClassifier.Create();
        var modified = ModelReader.Load(ModelWriter.ToBytes(run.Forward));
        var graph = modified.Graph;
        var batchNorm = graph.Nodes.First(n => n.OpType == "BatchNormalization");
        batchNorm.Attributes["training_mode"] = Attribute.Of("training_mode", 1L);
        var gemm = graph.Nodes.Single(n => n.OpType == "Gemm");
        var dropout = graph.AddNode("Dropout", [gemm.Input(0), graph.AddInitializer("ratio", Tensor.Scalar(0.5f)), graph.AddInitializer("train", new Tensor(DataType.Bool, [], new byte[] { 1 }))], ["dropped", "mask"]);
        graph.SetNodeInput(gemm, 0, dropout.Output(0));

        var exported = ClassifierExporter.Build(modified, run.Parameters, run.Export);

        Assert.DoesNotContain(exported.Graph.Nodes, n => n.OpType == "Dropout");
        Assert.DoesNotContain(exported.Graph.Nodes, n => n.OpType == "BatchNormalization" && n.Int("training_mode", 0) != 0);
        Assert.False(exported.Graph.Contains("ratio"));
        using var expected = new OrtRunner(run.Build());
        using var actual = new OrtRunner(exported);
        Assert.Equal(expected.Run(Images(2, 3))[0].Data, actual.Run(Images(2, 3))[0].Data);
    }

    [Fact]
    public void Build_DeadBranches_ArePruned()
    {
        var run = TrainedClassifier.Create();
        var extra = ModelReader.Load(ModelWriter.ToBytes(run.Forward));
        var graph = extra.Graph;
        graph.Outputs.Add(graph.AddNode("Relu", [graph.Inputs[0]], ["unused_relu"]).Output(0));

        var exported = ClassifierExporter.Build(extra, run.Parameters, run.Export);

        Assert.DoesNotContain(exported.Graph.Nodes, n => n.Output(0).Name.StartsWith("unused_relu", StringComparison.Ordinal));
        Assert.Equal(["logits", "probabilities"], exported.Graph.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void Build_ForwardOutputAlreadyNamedProbabilities_ContractNamesStillHold()
    {
        var run = TrainedClassifier.Create();
        var renamed = ModelReader.Load(ModelWriter.ToBytes(run.Forward));
        renamed.Graph.Rename(renamed.Graph.Outputs[0], "probabilities");

        var exported = ClassifierExporter.Build(renamed, run.Parameters, run.Export);

        Assert.Equal(["logits", "probabilities"], exported.Graph.Outputs.Select(o => o.Name));
        Assert.Equal("Softmax", exported.Graph.Outputs[1].Producer!.OpType);
        using var runner = new OrtRunner(exported);
        AssertSoftmax(runner.Run(Images(1, 2))[0].Data, runner.Run(Images(1, 2))[1].Data, classes: 4);
    }

    [Fact]
    public void Build_ParameterOfWrongShape_ErrorNamesIt()
    {
        var run = TrainedClassifier.Create();
        var wrong = new Dictionary<string, Tensor>(run.Parameters) { ["head.out.bias"] = Tensor.FromFloats([3], [1, 2, 3]) };
        var error = Assert.Throws<GraphException>(() => ClassifierExporter.Build(run.Forward, wrong, run.Export));
        Assert.Contains("head.out.bias", error.Message);
    }

    [Fact]
    public void Build_LabelCountDiffersFromClasses_ClearError()
    {
        var run = TrainedClassifier.Create();
        var error = Assert.Throws<GraphException>(() => ClassifierExporter.Build(run.Forward, run.Parameters, run.Export with { Labels = ["a", "b"] }));
        Assert.Contains("2 labels", error.Message);
    }

    [Fact]
    public void Build_PreprocessingOfAnotherSize_ClearError()
    {
        var run = TrainedClassifier.Create();
        var export = run.Export with { Preprocessing = TrainedClassifier.Preprocessing with { InputHeight = 32, InputWidth = 32 } };
        var error = Assert.Throws<GraphException>(() => ClassifierExporter.Build(run.Forward, run.Parameters, export));
        Assert.Contains("32, 32", error.Message);
    }

    [Fact]
    public void Build_OnnxChecker_AcceptsTheModel() => OnnxChecker.AssertValid(TrainedClassifier.Create("mobilenet_v2_small").Build(), output);

    private static void AssertSoftmax(double[] logits, double[] probabilities, int classes)
    {
        for (int row = 0; row < logits.Length / classes; row++)
        {
            var z = logits.AsSpan(row * classes, classes).ToArray();
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < classes; c++) Assert.Equal(Math.Exp(z[c] - max) / sum, probabilities[row * classes + c], 1e-6);
        }
    }
}
