using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>
/// A small model written in an old opset's operator forms: seeded float inputs, nodes added through <see cref="Graph"/>,
/// then <see cref="AssertUpgradeKeepsOutputs"/> runs the original and the upgraded model in ONNX Runtime and compares.
/// </summary>
internal sealed class UpgradeCase
{
    private readonly Random _random = new(42);
    private readonly Dictionary<string, (DataType, long[], double[])> _feeds = [];

    public UpgradeCase(long opset)
    {
        Model.Opsets[""] = opset;
        // The IR version each opset was released with (IR 3 still lists initializers among the graph inputs).
        Model.IrVersion = opset switch { <= 8 => 3, 9 => 4, 10 => 5, 11 => 6, 12 => 7, _ => 8 };
    }

    public Model Model { get; } = new();
    public Graph Graph => Model.Graph;

    public Value Input(string name, params long[] shape)
    {
        var value = Graph.AddInput(name, TensorType.Of(DataType.Float, shape));
        _feeds[name] = (DataType.Float, shape, RandomData(shape));
        return value;
    }

    public Value Weight(string name, params long[] shape) =>
        Graph.AddInitializer(name, Tensor.FromFloats(shape, Array.ConvertAll(RandomData(shape), v => (float)v)));

    public double[] RandomData(long[] shape) =>
        Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => _random.NextDouble() * 4 - 2).ToArray();

    /// <summary>Adds a node; its outputs become graph outputs.</summary>
    public Node Node(string opType, Value?[] inputs, int outputs = 1, params OnnxTrainer.Ir.Attribute[] attributes)
    {
        var node = Graph.AddNode(opType, inputs, Enumerable.Range(0, outputs).Select(i => $"{opType.ToLowerInvariant()}_out{i}"), attributes, opType.ToLowerInvariant());
        Graph.Outputs.AddRange(node.Outputs);
        return node;
    }

    public IReadOnlyDictionary<string, (DataType Type, long[] Shape, double[] Data)> Feeds => _feeds;

    public List<(double[] Data, long[] Shape)> Run(Model model)
    {
        using var runner = new OrtRunner(model);
        return runner.Run(_feeds);
    }

    /// <summary>Upgrades a copy and returns it, after checking it is at the working opset with no initializer among its inputs.</summary>
    public Model Upgrade()
    {
        var upgraded = Model.Clone();
        OpsetUpgrade.Apply(upgraded);
        Assert.Equal(OpsetUpgrade.WorkingOpset, upgraded.OpsetVersion);
        var written = ModelWriter.ToProto(upgraded);
        Assert.DoesNotContain(written.Graph.Input, i => written.Graph.Initializer.Any(t => t.Name == i.Name));
        return upgraded;
    }

    /// <summary>The original (run where ONNX Runtime still runs its opset) and the upgraded model give the same outputs.</summary>
    public Model AssertUpgradeKeepsOutputs(List<(double[] Data, long[] Shape)>? expected = null)
    {
        expected ??= Run(Model);
        var upgraded = Upgrade();
        var actual = Run(upgraded);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            UpgradeAssert.Close(expected[i].Data, actual[i].Data, $"output {i}");
        }
        return upgraded;
    }
}
