using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Architectures;

public class ArchitectureBuilderTests
{
    public static TheoryData<string> TorchConfigurations => [.. ArchitectureReferences.Names];

    [Theory]
    [MemberData(nameof(TorchConfigurations))]
    public void Create_TorchConfiguration_ParametersAndStatisticsMatchTorch(string name)
    {
        var reference = ArchitectureReferences.Get(name);

        var graph = ArchitectureFactory.Create(reference.Family, reference.Options).Graph;

        Assert.Equal(reference.ParameterCount, Parameters.Count(graph));
        Assert.Equal(reference.Parameters.Select(Describe), Parameters.Of(graph).Select(Describe));
        Assert.Equal(reference.RunningStatistics.Select(Describe), graph.Initializers.Where(Parameters.IsRunningStatistic).Select(Describe));
    }

    [Fact]
    public void Create_ResNet18Defaults_HasTorchvisionParameterCount()
    {
        var model = ArchitectureFactory.Create("resnet", new ArchitectureOptions());

        Assert.Equal(11_689_512, Parameters.Count(model.Graph));
    }

    [Fact]
    public void Create_MobileNetV2Defaults_HasTorchvisionParameterCount()
    {
        var model = ArchitectureFactory.Create("mobilenet_v2", new ArchitectureOptions());

        Assert.Equal(3_504_872, Parameters.Count(model.Graph));
    }

    [Theory]
    [MemberData(nameof(TorchConfigurations))]
    public void Create_TorchConfiguration_RunsInOrtWithInferredShapes(string name)
    {
        var reference = ArchitectureReferences.Get(name);
        // Full-size ImageNet configurations at 224 px; the small ones at a typical small-image size.
        int size = reference.Options.Classes == 1000 ? 224 : 32;
        var model = ArchitectureFactory.Create(reference.Family, reference.Options with { InputSize = size });
        const int batch = 2;
        var computed = model.Graph.Nodes.SelectMany(n => n.Outputs).Where(v => v.Name != "logits").ToList();
        var inferred = computed.Select(v => v.Type).ToList();
        model.Graph.Outputs.AddRange(computed);
        var feed = RandomInput(reference.Options.InputChannels, size, batch);

        List<TensorType> actual;
        using (var runner = new OrtRunner(model, GraphOptimizationLevel.ORT_DISABLE_ALL)) actual = runner.RunTyped(feed);

        Assert.Equal(TensorType.Of(DataType.Float, batch, reference.Options.Classes), actual[0]);
        for (int i = 0; i < computed.Count; i++)
            Assert.True(WithBatch(inferred[i], batch) == actual[i + 1], $"{computed[i].Name}: inferred {inferred[i]}, runtime {actual[i + 1]}");
    }

    [Fact]
    public void Create_AnyArchitecture_HasContractHeaderAndSymbolicBatch()
    {
        foreach (var name in ArchitectureFactory.Names)
        {
            var model = ModelReader.Load(ModelWriter.ToBytes(ArchitectureFactory.Create(name, new ArchitectureOptions { Classes = 7, InputChannels = 1, InputSize = 40, Width = 8, WidthMultiplier = 0.25 })), name);

            Assert.Equal(8, model.IrVersion);
            Assert.Equal(17, model.OpsetVersion);
            var input = Assert.Single(model.Graph.Inputs);
            Assert.Equal("input", input.Name);
            Assert.Equal("N", input.Type!.Shape![0].Symbol);
            Assert.Equal([1L, 40, 40], input.Type.Shape.Skip(1).Select(d => d.Value!.Value));
            var logits = Assert.Single(model.Graph.Outputs);
            Assert.Equal("logits", logits.Name);
            Assert.Equal("N", logits.Type!.Shape![0].Symbol);
            Assert.Equal(7, logits.Type.Shape[1].Value);
        }
    }

    [Theory]
    [InlineData("resnet")]
    [InlineData("mobilenet_v2")]
    public void Create_SameSeed_IdenticalWeights(string name)
    {
        var options = new ArchitectureOptions { Classes = 5, Width = 8, WidthMultiplier = 0.35, Stages = 4, InputSize = 32, SmallInputStem = true, Seed = 42 };

        var first = ArchitectureFactory.Create(name, options).Graph.Initializers.ToList();
        var second = ArchitectureFactory.Create(name, options).Graph.Initializers.ToList();
        var reseeded = ArchitectureFactory.Create(name, options with { Seed = 43 }).Graph.Initializers.ToList();

        Assert.Equal(first.Select(v => v.Name), second.Select(v => v.Name));
        for (int i = 0; i < first.Count; i++)
            Assert.True(first[i].Initializer!.Data.Span.SequenceEqual(second[i].Initializer!.Data.Span), $"{first[i].Name} differs between runs with the same seed");
        var firstConv = first.First(v => v.Initializer!.Dims.Length == 4);
        var reseededConv = reseeded.First(v => v.Name == firstConv.Name);
        Assert.False(firstConv.Initializer!.Data.Span.SequenceEqual(reseededConv.Initializer!.Data.Span), "another seed gives other weights");
    }

    [Fact]
    public void Create_ResNet18_InitializationFollowsTorchvision()
    {
        var graph = ArchitectureFactory.Create("resnet", new ArchitectureOptions { Seed = 7 }).Graph;

        // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out_channels * kh * kw)).
        var (mean, std) = Moments(graph["layer4.1.conv2.weight"].Initializer!.ToFloats());
        Assert.Equal(0, mean, 1e-4);
        Assert.Equal(Math.Sqrt(2.0 / (512 * 9)), std, Math.Sqrt(2.0 / (512 * 9)) * 0.01);
        // nn.Linear default: uniform in +-1/sqrt(fan_in), whose std is bound/sqrt(3).
        var fc = graph["fc.weight"].Initializer!.ToFloats();
        Assert.All(fc, w => Assert.InRange(Math.Abs(w), 0, 1 / Math.Sqrt(512)));
        Assert.Equal(1 / Math.Sqrt(512) / Math.Sqrt(3), Moments(fc).Std, 1e-3);
        Assert.All(graph["layer2.0.bn1.weight"].Initializer!.ToFloats(), w => Assert.Equal(1f, w));
        Assert.All(graph["layer2.0.downsample.1.bias"].Initializer!.ToFloats(), b => Assert.Equal(0f, b));
        Assert.All(graph["layer2.0.downsample.1.running_var"].Initializer!.ToFloats(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Create_MobileNetV2_InitializationFollowsTorchvision()
    {
        var graph = ArchitectureFactory.Create("mobilenet_v2", new ArchitectureOptions { Seed = 7 }).Graph;

        // Depthwise weights [C, 1, 3, 3]: torch's fan_out is C * 9 (not divided by the groups).
        var (_, depthwiseStd) = Moments(graph["features.17.conv.1.0.weight"].Initializer!.ToFloats());
        Assert.Equal(Math.Sqrt(2.0 / (960 * 9)), depthwiseStd, Math.Sqrt(2.0 / (960 * 9)) * 0.05);
        var (_, classifierStd) = Moments(graph["classifier.1.weight"].Initializer!.ToFloats());
        Assert.Equal(0.01, classifierStd, 1e-4);
        Assert.All(graph["classifier.1.bias"].Initializer!.ToFloats(), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void Create_MobileNetV2_ResidualOnlyWhereStrideOneAndSameChannels()
    {
        var graph = ArchitectureFactory.Create("mobilenet_v2", new ArchitectureOptions()).Graph;

        // torchvision: 10 of the 17 inverted residual blocks keep their input's size and channels.
        Assert.Equal(10, graph.Nodes.Count(n => n.OpType == "Add"));
        Assert.Equal(52, graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(17, graph.Nodes.Count(n => n.OpType == "Conv" && n.Int("group", 1) > 1));
    }

    [Fact]
    public void Create_SmallInputStem_KeepsResolutionUntilSecondStage()
    {
        var graph = ArchitectureFactory.Create("resnet", new ArchitectureOptions { Width = 16, InputSize = 32, SmallInputStem = true }).Graph;

        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "MaxPool");
        Assert.Equal([3L, 3], graph["conv1.weight"].Initializer!.Dims[2..]);
        var lastBlock = graph.Nodes.Single(n => n.Name.StartsWith("layer4.1.relu_out", StringComparison.Ordinal)).Output();
        Assert.Equal([128L, 4, 4], lastBlock.Type!.Shape!.Skip(1).Select(d => d.Value!.Value));
    }

    [Theory]
    [InlineData("resnet", "fc.weight")]
    [InlineData("mobilenet_v2", "classifier.1.weight")]
    public void Create_AnyArchitecture_HeadCutReplacesItsClassifier(string name, string classifierWeight)
    {
        // Shipped backbones made by this builder are fine-tuned through the "head" cut.
        var backbone = ArchitectureFactory.Create(name, new ArchitectureOptions { Classes = 5, Width = 8, WidthMultiplier = 0.35, InputSize = 32, SmallInputStem = true });

        var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 3, hidden: [], seed: 1);

        Assert.Equal(["head.out.weight", "head.out.bias"], assembly.HeadParameters);
        Assert.False(assembly.Model.Graph.Contains(classifierWeight), $"{classifierWeight} should be dropped with the old classifier");
        Assert.Equal(2, Assert.Single(assembly.Model.Graph.Outputs).Type!.Shape!.Count);
    }

    [Theory]
    [InlineData("resnet", "block per stage")]
    [InlineData("mobilenet_v2", "setting rows")]
    public void Create_InvalidFamilyOption_ClearError(string name, string expected)
    {
        var options = new ArchitectureOptions { BlocksPerStage = [], Stages = 0 };

        var error = Assert.Throws<ArgumentException>(() => ArchitectureFactory.Create(name, options));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UnknownName_ErrorListsKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => ArchitectureFactory.Create("vgg16", new ArchitectureOptions()));

        Assert.Contains("vgg16", error.Message, StringComparison.Ordinal);
        Assert.Contains("resnet, mobilenet_v2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(32 * 1.0, 32)]
    [InlineData(32 * 0.35, 16)]
    [InlineData(24 * 0.5, 16)]
    [InlineData(16 * 0.5, 8)]
    [InlineData(1280 * 1.4, 1792)]
    public void MakeDivisible_TorchvisionExamples_SameChannels(double requested, int expected) =>
        Assert.Equal(expected, MobileNetV2Builder.MakeDivisible(requested));

    private static string Describe((string Name, long[] Shape) p) => $"{p.Name} [{string.Join(", ", p.Shape)}]";

    private static string Describe(Value v) => $"{v.Name} [{string.Join(", ", v.Initializer!.Dims)}]";

    private static TensorType? WithBatch(TensorType? type, long batch) =>
        type?.Shape is { } shape ? type with { Shape = [.. shape.Select(d => d.Symbol == "N" ? Dim.Known(batch) : d)] } : type;

    private static Dictionary<string, (DataType, long[], double[])> RandomInput(int channels, int size, int batch)
    {
        var random = new Random(3);
        long[] shape = [batch, channels, size, size];
        return new() { ["input"] = (DataType.Float, shape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => random.NextDouble())]) };
    }

    private static (double Mean, double Std) Moments(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return (mean, Math.Sqrt(values.Average(v => (v - mean) * (v - mean))));
    }
}
