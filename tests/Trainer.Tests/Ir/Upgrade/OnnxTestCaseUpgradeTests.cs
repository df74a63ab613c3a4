using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using OnnxTrainer.Onnx.Protos;
using Xunit;
using DataType = OnnxTrainer.Ir.DataType;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>
/// ONNX's own test cases written at an opset older than the working one (node cases of old operator versions,
/// and the PyTorch-converted models at opset 6, IR 3): upgraded, each must compute in ONNX Runtime what the original
/// computes there, or, where ONNX Runtime no longer runs the original (opset 6), the outputs the case expects.
/// </summary>
public sealed class OnnxTestCaseUpgradeTests
{
    private static readonly string[] Folders = ["node", "pytorch-converted", "pytorch-operator", "simple"];
    private const string Missing = "<libonnx-testdata not installed>";

    /// <summary>Cases left out on purpose, with why.</summary>
    private static readonly Dictionary<string, string> Excluded = new(StringComparer.Ordinal)
    {
        ["node/test_dropout_random_old"] = "its expected output is one random draw of training-mode dropout",
        ["node/test_bernoulli"] = "random draws",
        ["node/test_bernoulli_double"] = "random draws",
        ["node/test_bernoulli_double_expanded"] = "random draws",
        ["node/test_bernoulli_expanded"] = "random draws",
        ["node/test_bernoulli_seed"] = "random draws",
        ["node/test_bernoulli_seed_expanded"] = "random draws",
        ["node/test_identity_sequence"] = "its data is a sequence, not a tensor",
    };

    private static readonly HashSet<DataType> ReadableTypes = [DataType.Float, DataType.Double, DataType.Int64];

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        if (!Directory.Exists(OnnxTestData.Root))
        {
            cases.Add(Missing);
            return cases;
        }
        foreach (var folder in Folders)
            foreach (var directory in Directory.GetDirectories(Path.Combine(OnnxTestData.Root, folder)).Order(StringComparer.Ordinal))
            {
                string name = $"{folder}/{Path.GetFileName(directory)}";
                string path = Path.Combine(directory, "model.onnx");
                if (Excluded.ContainsKey(name) || !File.Exists(path) || !Directory.Exists(Path.Combine(directory, "test_data_set_0"))) continue;
                var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
                long opset = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).First();
                if (opset < OpsetUpgrade.OldestOpset || opset >= OpsetUpgrade.WorkingOpset) continue;
                if (!proto.Graph.Node.All(n => n.Domain is "" or "ai.onnx" && OpsetAdapters.Knows(n.OpType))) continue;
                if (!DataTypes(directory, "input").All(ReadableTypes.Contains)) continue;
                if (!DataTypes(directory, "output").All(t => ReadableTypes.Contains(t) || t == DataType.Bool)) continue;
                cases.Add(name);
            }
        return cases;
    }

    private static IEnumerable<DataType> DataTypes(string directory, string kind) =>
        Directory.GetFiles(Path.Combine(directory, "test_data_set_0"), $"{kind}_*.pb").Select(f => (DataType)OnnxTestData.ReadProto(f).DataType);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Upgrade_OnnxTestCase_ComputesExpectedOutputs(string name)
    {
        Assert.True(name != Missing, OnnxTestData.MissingMessage);
        string directory = Path.Combine(OnnxTestData.Root, name);
        var model = ModelReader.Load(Path.Combine(directory, "model.onnx"));
        var before = model.Clone();
        long original = OpsetUpgrade.Apply(model);
        Assert.True(original < OpsetUpgrade.WorkingOpset);
        Assert.Equal(OpsetUpgrade.WorkingOpset, model.OpsetVersion);
        Assert.DoesNotContain(model.Graph.Inputs, v => v.IsInitializer);

        string dataSet = Path.Combine(directory, "test_data_set_0");
        var feeds = new Dictionary<string, (DataType, long[], double[])>();
        for (int i = 0; i < model.Graph.Inputs.Count; i++)
        {
            var tensor = OnnxTestData.ToTensor(OnnxTestData.ReadProto(Path.Combine(dataSet, $"input_{i}.pb")))!;
            feeds[model.Graph.Inputs[i].Name] = (tensor.ElementType, tensor.Dims, tensor.ToDoubles());
        }
        using var runner = new OrtRunner(model);
        var outputs = runner.Run(feeds);
        var expected = RunOriginal(before, feeds) ?? ExpectedOutputs(dataSet, outputs.Count);
        for (int i = 0; i < outputs.Count; i++)
        {
            Assert.Equal(expected[i].Shape, outputs[i].Shape);
            UpgradeAssert.Close(expected[i].Data, outputs[i].Data, $"{name} output {i}");
        }
    }

    /// <summary>The original model's outputs in ONNX Runtime; null when it refuses the opset (it runs opset 7 and newer).</summary>
    private static List<(double[] Data, long[] Shape)>? RunOriginal(Model original, Dictionary<string, (DataType, long[], double[])> feeds)
    {
        if (original.OpsetVersion < 7) return null;
        using var runner = new OrtRunner(original);
        return runner.Run(feeds);
    }

    private static List<(double[] Data, long[] Shape)> ExpectedOutputs(string dataSet, int count) =>
        [.. Enumerable.Range(0, count).Select(i => OnnxTestData.ToTensor(OnnxTestData.ReadProto(Path.Combine(dataSet, $"output_{i}.pb")))!)
            .Select(t => (t.ToDoubles(), t.Dims))];
}
