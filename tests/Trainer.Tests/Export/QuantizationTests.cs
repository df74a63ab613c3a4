using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Export;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace OnnxTrainer.Tests.Export;

[Collection(nameof(ConsoleCollection))]
public sealed class QuantizationTests(ITestOutputHelper output) : IDisposable
{
    private readonly PrototypeTask _task = new();

    public void Dispose() => _task.Dispose();

    /// <summary>The whole small ResNet (the prototype task's model is truncated early and tiny): for structure, size and logits.</summary>
    private static readonly Lazy<Model> FullModel = new(() => TrainedClassifier.Create().Build());

    private static IEnumerable<(float[], long[])> RandomBatches(int count)
    {
        for (int i = 0; i < count; i++)
            yield return (Array.ConvertAll(TrainedClassifier.RandomImages(2, i), v => (float)v), [2, 3, 64, 64]);
    }

    [Fact]
    public void Quantize_ResNet_EveryConvAndGemmReadsQdqActivationsAndPerChannelInt8Weights()
    {
        var model = FullModel.Value;

        var quantized = Int8Quantizer.Quantize(model, RandomBatches(2));

        var graph = quantized.Graph;
        foreach (var node in graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm"))
        {
            Assert.Equal("DequantizeLinear", node.Input(0)!.Producer!.OpType);
            var weight = node.Input(1)!.Producer!;
            Assert.Equal("DequantizeLinear", weight.OpType);
            Assert.Equal(DataType.Int8, weight.Input(0)!.Initializer!.ElementType);
            Assert.Equal(weight.Input(0)!.Initializer!.Dims[0], weight.Input(1)!.Initializer!.ElementCount()); // Conv [M, C, k, k] and Gemm transB=1 [out, in]
        }
        // Conv outputs go straight (or through Relu) into QuantizeLinear: the pattern ONNX Runtime fuses into QLinearConv.
        foreach (var conv in graph.Nodes.Where(n => n.OpType == "Conv"))
        {
            var reader = Assert.Single(conv.Output(0).Users);
            if (reader.OpType == "Relu") reader = Assert.Single(reader.Output(0).Users);
            Assert.Equal("QuantizeLinear", reader.OpType);
        }
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.DoesNotContain(graph.Initializers, v => v.Initializer!.ElementType == DataType.Float && v.Initializer.ElementCount() > 1024);
        Assert.Equal(model.Metadata, quantized.Metadata);
        Assert.InRange((double)ModelWriter.ToBytes(quantized).Length / ModelWriter.ToBytes(model).Length, 0, 0.35);
    }

    [Fact]
    public void Quantize_AndFloat16_OnnxCheckerAcceptsBoth()
    {
        OnnxChecker.AssertValid(Int8Quantizer.Quantize(FullModel.Value, RandomBatches(1)), output);
        OnnxChecker.AssertValid(Float16Weights.Convert(FullModel.Value), output);
    }

    [Fact]
    public void BatchNormFolding_ResNet_NoBatchNormSameLogits()
    {
        var model = FullModel.Value;
        var folded = ModelReader.Load(ModelWriter.ToBytes(model));

        int count = ConvBatchNormFolding.Apply(folded.Graph, folded.OpsetVersion, weight => weight.IsInitializer);
        folded.Graph.RemoveDeadNodes();

        Assert.Equal(model.Graph.Nodes.Count(n => n.OpType == "BatchNormalization"), count);
        Assert.DoesNotContain(folded.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal(0, ConvBatchNormFolding.Apply(folded.Graph, folded.OpsetVersion, weight => weight.IsInitializer));
        var feeds = new Dictionary<string, (DataType, long[], double[])> { ["input"] = (DataType.Float, [2, 3, 64, 64], TrainedClassifier.RandomImages(2, 6)) };
        using var reference = new OrtRunner(model, GraphOptimizationLevel.ORT_DISABLE_ALL);
        using var runner = new OrtRunner(folded, GraphOptimizationLevel.ORT_DISABLE_ALL);
        var expected = reference.Run(feeds)[0].Data;
        var actual = runner.Run(feeds)[0].Data;
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4 * (1 + Math.Abs(expected[i])));
    }

    /// <summary>int8 rounding moves each logit by a small share of the logits' scale: bounded at 5% of the largest.</summary>
    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL)]
    public void Quantize_ResNet_LogitsCloseToFloatAtEveryOptimizationLevel(GraphOptimizationLevel level)
    {
        var model = FullModel.Value;
        var quantized = Int8Quantizer.Quantize(model, RandomBatches(4));
        var feeds = new Dictionary<string, (DataType, long[], double[])> { ["input"] = (DataType.Float, [3, 3, 64, 64], TrainedClassifier.RandomImages(3, 9)) };

        using var reference = new OrtRunner(model);
        using var runner = new OrtRunner(quantized, level);
        var expected = reference.Run(feeds)[0].Data;
        var actual = runner.Run(feeds)[0].Data;

        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 0.05 * scale);
    }

    [Fact]
    public void Convert_Float16_HalfTheSizeLogitsWithinHalfPrecision()
    {
        var model = FullModel.Value;
        var half = Float16Weights.Convert(model);
        var feeds = new Dictionary<string, (DataType, long[], double[])> { ["input"] = (DataType.Float, [2, 3, 64, 64], TrainedClassifier.RandomImages(2, 4)) };

        using var reference = new OrtRunner(model);
        using var runner = new OrtRunner(half);
        var expected = reference.Run(feeds)[0].Data;
        var actual = runner.Run(feeds)[0].Data;

        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 0.005 * scale);
        Assert.InRange((double)ModelWriter.ToBytes(half).Length / ModelWriter.ToBytes(model).Length, 0.45, 0.6);
    }

    /// <summary>The bound: on the sample task, int8 and fp16 lose at most 2 accuracy points against fp32.</summary>
    [Fact]
    public void ExportCommand_Int8ThenFp16_AllFormatsSideBySideWithinTwoPoints()
    {
        JsonArray Export(string format)
        {
            var (code, stdout, error) = ConsoleCapture.Run("export", _task.RunDirectory, "--format", format,
                "--calibration", _task.Train, "--calibration-images", "32", "--validation", _task.Validation, "--json");
            Assert.True(code == 0, error);
            output.WriteLine(stdout);
            return JsonNode.Parse(stdout)!.AsArray();
        }

        Assert.Equal(["fp32", "int8"], Export("int8").Select(r => (string)r!["format"]!));
        var rows = Export("fp16");

        Assert.Equal(["fp32", "fp16", "int8"], rows.Select(r => (string)r!["format"]!));
        double fp32 = (double)rows[0]!["accuracy"]!;
        Assert.InRange(fp32, 0.8, 1.0); // the task is learnable: the comparison means something
        foreach (var row in rows.Skip(1))
        {
            Assert.InRange(fp32 - (double)row!["accuracy"]!, double.NegativeInfinity, 0.02);
            Assert.True((long)row["bytes"]! < (long)rows[0]!["bytes"]!);
            Assert.True(File.Exists((string)row["path"]!));
        }
    }

    [Fact]
    public void ExportCommand_Int8WithoutCalibration_ErrorSaysWhatIsNeeded()
    {
        var (code, _, error) = ConsoleCapture.Run("export", _task.RunDirectory, "--format", "int8");
        Assert.Equal(OnnxTrainer.Cli.CommandLine.UsageError, code);
        Assert.Contains("--calibration", error);
    }
}
