using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Ir;

public class ModelCloneTests
{
    [Theory]
    [InlineData("resnet_small")]
    [InlineData("mobilenet_v2_small")]
    public void Clone_RealModel_SameFileAsTheOriginal(string name)
    {
        var original = GeneratedFixtures.Load(name);

        var clone = original.Clone();

        Assert.Equal(ModelWriter.ToBytes(original), ModelWriter.ToBytes(clone));
    }

    [Fact]
    public void Clone_EditedCopy_OriginalUntouchedAndWeightsShared()
    {
        var original = GeneratedFixtures.Load("resnet_small");
        var before = ModelWriter.ToBytes(original);
        var weight = original.Graph.Initializers.First(v => v.Initializer!.Dims.Length == 4);

        var clone = original.Clone();
        var twin = clone.Graph[weight.Name];
        clone.Graph.PromoteToInput(twin);
        var relu = clone.Graph.Nodes.First(n => n.OpType == "Relu");
        clone.Graph.ReplaceAllUsesWith(relu.Output(), relu.Input(0)!);
        clone.Graph.RemoveDeadNodes();
        clone.Graph.FreshName("x");
        clone.SetMetadata("edited", "yes");
        clone.Opsets[""] = 99;

        Assert.Equal(before, ModelWriter.ToBytes(original));
        Assert.True(weight.IsInitializer);
        Assert.NotSame(weight, twin);
        Assert.Contains(original.Graph.Nodes, n => n.Name == relu.Name);
        Assert.Same(weight.Initializer, original.Clone().Graph[weight.Name].Initializer);
    }
}
