using System.Text.Json.Nodes;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class InspectCommandTests
{
    [Fact]
    public void Inspect_ResNet18_ReportsParametersHeadAndBlockBoundaries()
    {
        var (code, output, _) = ConsoleCapture.Run("inspect", GeneratedFixtures.ModelPath("resnet18"), "--json");
        Assert.Equal(0, code);
        var report = JsonNode.Parse(output)!;
        Assert.Equal(11_689_512, (long)report["parameters"]!);
        // torchvision's ResNet-18 is 1.81 GMACs at 224x224.
        Assert.InRange((long)report["flops"]!, 3_600_000_000, 3_650_000_000);
        Assert.Equal("/fc/Gemm", (string)report["head"]!["nodes"]![0]!);
        Assert.Equal(1000, (long)report["head"]!["classes"]!);
        var cuts = report["cut_points"]!.AsArray().Select(c => (string)c!["tensor"]!).ToList();
        foreach (var layer in new[] { "layer1", "layer2", "layer3", "layer4" })
            Assert.Contains($"/{layer}/{layer}.1/relu_1/Relu_output_0", cuts);
        Assert.DoesNotContain(cuts, c => c.Contains("conv2"));
        var last = report["cut_points"]!.AsArray().Last()!;
        Assert.Equal("float[1, 512]", (string)last["shape"]!);
    }

    [Fact]
    public void Inspect_Opset9Model_ShowsFileOpsetAndWorkingOpset()
    {
        var (code, output, _) = ConsoleCapture.Run("inspect", GeneratedFixtures.ModelPath("resnet_small_opset9"), "--json");
        Assert.Equal(0, code);
        var report = JsonNode.Parse(output)!;
        Assert.Equal(9, (long)report["opsets"]!["ai.onnx"]!);
        Assert.Equal(4, (long)report["ir_version"]!);
        Assert.Equal(17, (long)report["working_opset"]!);
        Assert.Equal(177_362, (long)report["parameters"]!);

        var (textCode, text, _) = ConsoleCapture.Run("inspect", GeneratedFixtures.ModelPath("resnet_small_opset9"));
        Assert.Equal(0, textCode);
        Assert.Contains("trained at ai.onnx opset 17", text);
    }

    [Fact]
    public void Inspect_UnknownOperatorAtOldOpset_OneLineErrorNamingNodeOpAndOpset()
    {
        var model = new OnnxTrainer.Ir.Model();
        model.Opsets[""] = 9;
        var x = model.Graph.AddInput("x", OnnxTrainer.Ir.TensorType.Of(OnnxTrainer.Ir.DataType.Float, 1, 3, 8, 8));
        var node = model.Graph.AddNode("Scan", [x], ["y"], name: "loop_body");
        model.Graph.Outputs.Add(node.Output());
        string path = Path.Combine(Path.GetTempPath(), $"scan-{Guid.NewGuid():N}.onnx");
        OnnxTrainer.Onnx.ModelWriter.Save(model, path);
        try
        {
            var (code, _, error) = ConsoleCapture.Run("inspect", path);
            Assert.NotEqual(0, code);
            Assert.Contains("node 'loop_body' (Scan) at opset 9", error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Inspect_CorruptFile_OneLineErrorNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
        try
        {
            var (code, _, error) = ConsoleCapture.Run("inspect", path);
            Assert.NotEqual(0, code);
            Assert.Contains(path, error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
