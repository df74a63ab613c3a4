using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Autodiff;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>
/// torchvision models exported at opsets 9, 11 and 12 (tests/fixtures/generate_models.py): upgraded, each computes what the
/// original computes in ONNX Runtime, and its training graph gives PyTorch's float64 gradients.
/// </summary>
public sealed class OldOpsetTorchvisionTests
{
    public static TheoryData<string, string> Models()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, current) in GeneratedFixtures.OldOpsetModels) data.Add(name, current);
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Upgrade_OldTorchvisionExport_ComputesOriginalOutputs(string name, string current)
    {
        var original = ModelReader.Load(GeneratedFixtures.ModelPath(name));
        var upgraded = original.Clone();
        Assert.True(OpsetUpgrade.Apply(upgraded) < OpsetUpgrade.WorkingOpset);

        var info = GeneratedFixtures.Info(current);
        long[] shape = [2, .. info.InputShape.Skip(1)];
        var random = new Random(7);
        var feeds = new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, shape, [.. Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => random.NextDouble() * 2 - 1)]),
        };
        using var before = new OrtRunner(original);
        using var after = new OrtRunner(upgraded);
        var expected = before.Run(feeds)[0];
        var actual = after.Run(feeds)[0];
        Assert.Equal(expected.Shape, actual.Shape);
        UpgradeAssert.Close(expected.Data, actual.Data, name);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TrainingGraph_OldTorchvisionExport_MatchesTorchFloat64(string name, string current) =>
        WholeModelGradientTests.AssertGradientsMatchReference(ModelReader.Load(GeneratedFixtures.ModelPath(name)), current);
}
