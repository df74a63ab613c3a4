using Xunit;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Onnx;

namespace OnnxTrainer.Tests.Packaging;

/// <summary>What a user does: pack onnx-trainer as a .NET tool, install it from the package, run it.</summary>
[Collection(nameof(PackagingCollection))]
public sealed class ToolPackageTests
{
    [Fact]
    public void InstalledTool_InspectShippedModel_ReportsItsParametersHeadAndCutPoints()
    {
        using var folder = new TempFolder();
        var version = DotnetCli.UniqueVersion();

        // Only this machine's native libraries (Skia names macOS "osx"): a fifth of the full package, packed and installed in seconds.
        var natives = RuntimeInformation.RuntimeIdentifier + (OperatingSystem.IsMacOS() ? "%3Bosx" : "");
        DotnetCli.Pack("src/Trainer/Trainer.csproj", folder.Sub("packages"), version, $"-p:ToolNativeRuntimes={natives}");

        var tools = folder.Sub("tools");
        DotnetCli.Run(folder.Path, "dotnet", ["tool", "install", "onnx-trainer", "--tool-path", tools, "--add-source", folder.File("packages"), "--version", version]);
        var model = RepositoryPaths.Of("models/onnx/resnet-fmnist-source.onnx");
        var report = JsonNode.Parse(DotnetCli.Run(folder.Path, Path.Combine(tools, "onnx-trainer"), ["inspect", model, "--json"]))!;

        var graph = ModelReader.Load(model).Graph;
        TiedInitializers.Untie(graph);
        Assert.Equal(Parameters.Count(graph), (long)report["parameters"]!);
        Assert.Equal(5, (int)report["head"]!["classes"]!);
        Assert.Equal(CutPoint.Find(graph).Count, report["cut_points"]!.AsArray().Count);
    }
}
