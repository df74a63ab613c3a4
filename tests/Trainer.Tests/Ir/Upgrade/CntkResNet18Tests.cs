using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>ML.NET's ImageNet ResNet-18 (CNTK 2.6, IR 3, opset 8; BatchNormalization with spatial, MaxPool with storage_order).</summary>
public sealed class CntkResNet18Tests
{
    [Fact]
    public void Upgrade_CntkResNet18_ComputesOriginalFeatures()
    {
        var original = ModelReader.Load(SetupFixtures.ImageNetResNet18);
        var upgraded = original.Clone();

        Assert.Equal(8, OpsetUpgrade.Apply(upgraded));
        Assert.Equal(OpsetUpgrade.WorkingOpset, upgraded.OpsetVersion);
        Assert.Equal(["Input247"], upgraded.Graph.Inputs.Select(v => v.Name));
        Assert.DoesNotContain(upgraded.Graph.Nodes, n => n.Attributes.ContainsKey("spatial"));

        var random = new Random(3);
        long[] shape = [1, 3, 224, 224];
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["Input247"] = (DataType.Float, shape, [.. Enumerable.Range(0, 3 * 224 * 224).Select(_ => random.NextDouble() * 255 - 120)]),
        };
        using var before = new OrtRunner(original);
        using var after = new OrtRunner(upgraded);
        var expected = before.Run(feeds)[0];
        var actual = after.Run(feeds)[0];
        Assert.Equal([1L, 512, 1, 1], actual.Shape);
        UpgradeAssert.Close(expected.Data, actual.Data, "ResNet18 features");
    }
}
