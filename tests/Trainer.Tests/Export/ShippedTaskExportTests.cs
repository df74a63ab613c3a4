using System.Text.Json.Nodes;
using Xunit;

namespace OnnxTrainer.Tests.Export;

/// <summary>
/// fp16 and int8 exports on the shipped sample task: the Fashion-MNIST quickstart recipe (shipped backbone, shipped
/// Fashion-MNIST target images) trained briefly, then exported and evaluated on the shipped validation images.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ShippedTaskExportTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), $"shipped-export-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("fp16")]
    public void Export_ShippedSampleTask_AccuracyDropAtMostTwoPoints(string format)
    {
        var (code, _, error) = ConsoleCapture.Run("train", RepositoryPaths.Of("recipes/quickstart-fashion.yaml"), "--set", "epochs=6", "--out", _run);
        Assert.True(code == 0, error);

        (code, var json, error) = ConsoleCapture.Run("export", _run, "--format", format, "--calibration", RepositoryPaths.Of("data/fashion-target/train"),
            "--validation", RepositoryPaths.Of("data/fashion-target/val"), "--json");
        Assert.True(code == 0, error);
        var rows = JsonNode.Parse(json)!.AsArray();
        double Accuracy(string name) => (double)rows.Single(r => (string)r!["format"]! == name)!["accuracy"]!;
        Assert.True(Accuracy("fp32") > 0.8, $"the shipped task should train to > 80% (got {Accuracy("fp32"):P1})");
        Assert.True(Accuracy("fp32") - Accuracy(format) <= 0.02, $"{format}: {Accuracy(format):P1} vs fp32 {Accuracy("fp32"):P1}");
    }
}
