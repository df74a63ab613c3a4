using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

public class FrozenPrefixTests
{
    [Fact]
    public void Split_HeadOnly_PrefixThenSuffixEqualsWholeModel()
    {
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), BackboneCut.Head, 5, [], 1);
        var split = FrozenPrefix.Split(assembly.Model, assembly.HeadParameters);
        Assert.NotNull(split);
        Assert.Equal(assembly.FeaturesTensor, split.Boundary);
        Assert.DoesNotContain(split.Suffix.Graph.Nodes, n => n.OpType == "Conv");
        Assert.DoesNotContain(split.Prefix.Graph.Nodes, n => n.Name.StartsWith("head", StringComparison.Ordinal));

        var random = new Random(5);
        long[] shape = [2, 3, 64, 64];
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, shape, Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => random.NextDouble()).ToArray()),
        };
        using var whole = new OrtRunner(assembly.Model);
        using var prefix = new OrtRunner(split.Prefix);
        using var suffix = new OrtRunner(split.Suffix);
        var features = prefix.Run(feeds)[0];
        var logits = suffix.Run(new Dictionary<string, (DataType, long[], double[])> { [split.Boundary] = (DataType.Float, features.Shape, features.Data) })[0];
        Assert.Equal(whole.Run(feeds)[0].Data, logits.Data);
    }

    [Fact]
    public void Split_LastBlockTrainable_BoundaryIsBlockInput()
    {
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), BackboneCut.Head, 5, [], 1);
        var trainable = Parameters.Of(assembly.Model.Graph).Select(p => p.Name).Where(n => n.StartsWith("layer4.1.", StringComparison.Ordinal) || n.StartsWith("head", StringComparison.Ordinal)).ToList();
        var split = FrozenPrefix.Split(assembly.Model, trainable);
        Assert.NotNull(split);
        // layer4.1's input is layer4.0's output: the residual block boundary.
        Assert.Contains("layer4.0", split.Boundary);
        Assert.Contains(split.Suffix.Graph.Nodes, n => n.OpType == "Conv");
    }

    /// <summary>The last block's ReLU6 bounds are Constant nodes: constants, not frozen tensors feeding the block.</summary>
    [Fact]
    public void Split_MobileNetV2LastBlock_ClipBoundsFromConstantNodesStayInSuffix()
    {
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("mobilenet_v2_small")), BackboneCut.Head, 5, [], 1);
        var graph = assembly.Model.Graph;
        string last = Parameters.Of(graph).Select(p => p.Name).Where(n => n.StartsWith("features.", StringComparison.Ordinal)).Max(n => int.Parse(n.Split('.')[1])).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var trainable = Parameters.Of(graph).Select(p => p.Name).Where(n => n.StartsWith($"features.{last}.", StringComparison.Ordinal) || n.StartsWith("head", StringComparison.Ordinal)).ToList();
        Assert.Contains(graph.Nodes, n => n.OpType == "Clip" && n.Input(1)?.Producer?.OpType == "Constant" && n.Name.Contains($"features.{last}", StringComparison.Ordinal));

        var split = FrozenPrefix.Split(assembly.Model, trainable);
        Assert.NotNull(split);
        Assert.Contains(split.Suffix.Graph.Nodes, n => n.OpType == "Clip");
        Assert.Equal(split.Boundary, Assert.Single(split.Prefix.Graph.Outputs).Name);
    }

    [Fact]
    public void Split_EverythingTrainable_NoPrefix()
    {
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), BackboneCut.Head, 5, [], 1);
        Assert.Null(FrozenPrefix.Split(assembly.Model, [.. Parameters.Of(assembly.Model.Graph).Select(p => p.Name)]));
    }
}
