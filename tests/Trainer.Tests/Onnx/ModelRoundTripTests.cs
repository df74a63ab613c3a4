using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;
using OnnxTrainer.Onnx.Protos;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>Real torchvision architectures (tests/fixtures/generate.sh) read, written and read again without loss.</summary>
public sealed class ModelRoundTripTests
{
    public static TheoryData<string> AllModels => ToTheoryData(GeneratedFixtures.AllModels);

    public static TheoryData<string> SmallModels => ToTheoryData(GeneratedFixtures.SmallModels);

    [Theory]
    [MemberData(nameof(AllModels))]
    public void RoundTrip_GeneratedModel_PreservesGraph(string name)
    {
        string path = GeneratedFixtures.ModelPath(name);
        var original = ModelReader.Load(path);

        var reloaded = ModelReader.Load(ModelWriter.ToBytes(original), name);

        ModelEquivalence.AssertSame(original, reloaded);
        Assert.Equal(["input"], reloaded.Graph.Inputs.Select(v => v.Name));
        Assert.Equal(["logits"], reloaded.Graph.Outputs.Select(v => v.Name));
        Assert.Equal(GeneratedFixtures.Info(name).Opset, reloaded.OpsetVersion);
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Load_GeneratedModel_KeepsEveryNodeAndInitializerOfTheFile(string name)
    {
        string path = GeneratedFixtures.ModelPath(name);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

        var model = ModelReader.Load(path);

        Assert.Equal(proto.Graph.Node.Select(n => n.Name).Order(), model.Graph.Nodes.Select(n => n.Name).Order());
        Assert.Equal(proto.Graph.Initializer.Count, model.Graph.Initializers.Count());
        foreach (var init in proto.Graph.Initializer)
            Assert.True(init.RawData.Span.SequenceEqual(model.Graph[init.Name].Initializer!.Data.Span), $"initializer '{init.Name}' bytes differ");
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void ParameterCount_GeneratedModel_MatchesTorch(string name)
    {
        var model = GeneratedFixtures.Load(name);

        long count = Parameters.Count(model.Graph);

        Assert.Equal(GeneratedFixtures.Info(name).TorchParameterCount, count);
    }

    [Fact]
    public void ParameterCount_TiedExport_CountsEachParameterOnceUntied()
    {
        var model = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small_tied"));
        long stored = Parameters.Count(model.Graph);

        int untied = TiedInitializers.Untie(model.Graph);

        // Every BatchNorm scale of 1 and shift of 0 (and running statistics) but one per size read through an Identity.
        Assert.True(untied >= 20, $"{untied} ties");
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType == "Identity");
        Assert.True(stored < GeneratedFixtures.Info("resnet_small_tied").TorchParameterCount);
        Assert.Equal(GeneratedFixtures.Info("resnet_small_tied").TorchParameterCount, Parameters.Count(model.Graph));
    }

    [Fact]
    public void ParameterCount_ResNet18_Is11689512()
    {
        var model = ModelReader.Load(GeneratedFixtures.ModelPath("resnet18"));

        Assert.Equal(11_689_512, Parameters.Count(model.Graph));
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void Parameters_GeneratedModel_AreTorchParametersWithTheirShapes(string name)
    {
        var model = GeneratedFixtures.Load(name);

        var parameters = Parameters.Of(model.Graph).ToDictionary(v => v.Name, v => v.Initializer!.Dims);

        var expected = GeneratedFixtures.Info(name).Parameters;
        Assert.Equal(expected.Select(p => p.Initializer).Order(), parameters.Keys.Order());
        foreach (var p in expected) Assert.Equal(p.Shape, parameters[p.Initializer]);
    }

    [Theory]
    [MemberData(nameof(SmallModels))]
    public void Reference_SmallModel_HoldsGradientOfEveryParameter(string name)
    {
        var model = GeneratedFixtures.Load(name);
        var reference = SafeTensors.Read(GeneratedFixtures.ReferencePath(name)).Tensors;

        var gradients = reference.Keys.Where(n => n.StartsWith("grad/", StringComparison.Ordinal)).Select(n => n["grad/".Length..]);

        Assert.Equal(Parameters.Of(model.Graph).Select(v => v.Name).Order(), gradients.Order());
        foreach (var p in Parameters.Of(model.Graph))
        {
            Assert.Equal(p.Initializer!.Dims, reference["grad/" + p.Name].Dims);
            Assert.InRange(reference["grad32err/" + p.Name].ToDoubles()[0], 0, 1e-3);
        }
        var info = GeneratedFixtures.Info(name);
        Assert.Equal(info.InputShape[1..], reference["input"].Dims[1..]);
        Assert.All(reference["labels"].ToInt64s(), label => Assert.InRange(label, 0, info.NumClasses - 1));
        Assert.True(double.IsFinite(reference["loss"].ToDoubles()[0]));
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void RoundTrip_GeneratedModel_RunsWithIdenticalLogits(string name)
    {
        using var temp = new TempFolder();
        string original = GeneratedFixtures.ModelPath(name);
        string copy = temp.File(name + ".onnx");
        ModelWriter.Save(ModelReader.Load(original), copy);
        var info = GeneratedFixtures.Info(name);
        long[] shape = [2, .. info.InputShape[1..]];
        var input = RandomInput(shape, seed: name.Length);

        var expected = OrtRunner.Run(original, "input", input, shape);
        var actual = OrtRunner.Run(copy, "input", input, shape);

        Assert.Equal(2 * info.NumClasses, expected.Length);
        Assert.All(expected, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(expected, actual);
    }

    private static float[] RandomInput(long[] shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[Tensor.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    private static TheoryData<string> ToTheoryData(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var name in names) data.Add(name);
        return data;
    }
}
