using System.Text.Json;
using OnnxTrainer.Inference;
using OnnxTrainer.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Export;

/// <summary>
/// The README's main job as shipped: recipes/quickstart.yaml (ML.NET's ImageNet ResNet-18, a CNTK export at opset 8
/// with its preprocessing graph, from scripts/setup.sh) trained on the tuxpaint photos, then served by the Inference
/// library on the validation photos.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ShippedQuickstartTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), $"quickstart-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    [Fact]
    public void Quickstart_ImageNetResNet18OnPhotos_ServedModelAbove85Percent()
    {
        var validation = RepositoryPaths.Of("data/photos/val");
        Assert.True(File.Exists(RepositoryPaths.Of("models/imagenet/ResNet18.onnx")) && Directory.Exists(validation), "run scripts/setup.sh");

        var (code, output, error) = ConsoleCapture.Run("train", RepositoryPaths.Of("recipes/quickstart.yaml"), "--out", _run);

        Assert.True(code == 0, output + error);
        var modelPath = Path.Combine(_run, "model.onnx");
        using var metrics = JsonDocument.Parse(ModelReader.Load(modelPath).GetMetadata(ClassifierMetadata.Metrics)!);
        using var classifier = ImageClassifier.Load(modelPath);
        var photos = Directory.GetDirectories(validation).SelectMany(folder => Directory.GetFiles(folder).Select(file => (File: file, Label: Path.GetFileName(folder)))).ToList();
        var predictions = classifier.ClassifyBatch([.. photos.Select(p => p.File)]);
        double accuracy = photos.Zip(predictions).Count(p => p.Second[0].Label == p.First.Label) / (double)photos.Count;
        Assert.Equal(metrics.RootElement.GetProperty("val_accuracy").GetDouble(), accuracy, 6);
        Assert.True(accuracy > 0.85, $"{photos.Count} validation photos, 5 classes: {accuracy:P1}");
    }
}
