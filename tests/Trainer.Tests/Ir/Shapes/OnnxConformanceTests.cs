using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using OnnxTrainer.Onnx.Protos;
using Xunit;
using DataType = OnnxTrainer.Ir.DataType;
using Graph = OnnxTrainer.Ir.Graph;
using Tensor = OnnxTrainer.Ir.Tensor;

namespace OnnxTrainer.Tests.Ir.Shapes;

/// <summary>
/// ONNX's own operator test cases (Debian package libonnx-testdata): for every case whose operators
/// all have a shape rule, our inferred output types must match the expected output tensors.
/// </summary>
public sealed class OnnxConformanceTests
{
    private const string Root = OnnxTestData.Root + "/node";
    private const string Missing = "<libonnx-testdata not installed>";

    /// <summary>Cases of supported operators that are left out on purpose, with why.</summary>
    private static readonly Dictionary<string, string> Excluded = new(StringComparer.Ordinal)
    {
        ["test_identity_sequence"] = "Identity over a sequence type; we only type tensors",
        ["test_identity_opt"] = "Identity over an optional type; we only type tensors",
        ["test_cast_FLOAT_to_BFLOAT16"] = "this test data stores the expected bfloat16 output as uint16",
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = "this test data stores the expected bfloat16 output as uint16",
        ["test_blackmanwindow_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
        ["test_blackmanwindow_symmetric_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
        ["test_hammingwindow_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
        ["test_hammingwindow_symmetric_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
        ["test_hannwindow_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
        ["test_hannwindow_symmetric_expanded"] = "window length computed in float arithmetic, which constant evaluation does not track",
    };

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        if (!Directory.Exists(Root))
        {
            cases.Add(Missing);
            return cases;
        }
        var supported = ShapeRules.Supported.ToHashSet(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(directory);
            string path = Path.Combine(directory, "model.onnx");
            if (Excluded.ContainsKey(name) || !File.Exists(path)) continue;
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            if (proto.Graph.Node.All(n => n.Domain is "" or "ai.onnx" && supported.Contains(n.OpType)))
                cases.Add(name);
        }
        return cases;
    }

    /// <summary>
    /// Shapes that depend on input values (Slice starts, Reshape shape, Range bounds, Resize scales ...) can
    /// only be inferred from constants, so integer and scalar inputs and Resize's roi and scales become
    /// initializers holding the case's data, as an exporter would have emitted them.
    /// </summary>
    private static void FreezeShapeInputs(Graph graph, string dataSet)
    {
        foreach (var (input, i) in graph.Inputs.ToList().Select((v, i) => (v, i)))
        {
            var proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dataSet, $"input_{i}.pb")));
            var type = (DataType)proto.DataType;
            bool integral = type is DataType.Int64 or DataType.Int32;
            bool resizeFactors = input.Users.Count > 0 && input.Users.All(u => u.OpType == "Resize" && u.Inputs[0] != input);
            if (!integral && !resizeFactors && proto.Dims.Aggregate(1L, (a, b) => a * b) != 1) continue;
            var tensor = OnnxTestData.ToTensor(proto);
            if (tensor is null) continue;
            var constant = graph.AddInitializer(graph.FreshName(input.Name + "_value"), tensor);
            graph.ReplaceAllUsesWith(input, constant);
            graph.Inputs.Remove(input);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShapeInference_OnnxNodeTestCase_MatchesExpectedOutputs(string name)
    {
        Assert.True(name != Missing, OnnxTestData.MissingMessage);
        var model = ModelReader.Load(Path.Combine(Root, name, "model.onnx"));
        FreezeShapeInputs(model.Graph, Path.Combine(Root, name, "test_data_set_0"));
        // Forget the declared types so that the result is ours, not the file's.
        foreach (var node in model.Graph.Nodes)
            foreach (var output in node.Outputs) output.Type = null;

        ShapeInference.Run(model);

        for (int i = 0; i < model.Graph.Outputs.Count; i++)
        {
            var expected = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Root, name, "test_data_set_0", $"output_{i}.pb")));
            var actual = model.Graph.Outputs[i].Type;
            Assert.NotNull(actual);
            Assert.Equal($"{(DataType)expected.DataType}[{string.Join(", ", expected.Dims)}]",
                $"{actual.ElementType}[{(actual.Shape is null ? "?" : string.Join(", ", actual.Shape))}]");
        }
    }
}
