using System.Text.Json;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>The benchmark's models: which parameters each setting trains, checked against the torch script's lists.</summary>
internal static class BenchmarkModels
{
    // Trainable parameters of the "last-block" setting, by initializer-name prefix; the torch script uses the
    // same prefixes (and writes its lists beside the models, checked below).
    private static readonly Dictionary<string, string[]> LastBlockPrefixes = new()
    {
        ["mobilenet_v2"] = ["features.17.", "features.18.", "classifier."],
        ["resnet18"] = ["layer4.", "fc."],
        ["mobilenet_v3_large"] = ["features.15.", "features.16.", "classifier."],
        ["efficientnet_b0"] = ["features.7.", "features.8.", "classifier."],
        ["shufflenet_v2_x1_0"] = ["stage4.3.", "conv5.", "fc."],
        ["densenet121"] = ["features.denseblock4.denselayer16.", "features.norm5.", "classifier."],
        ["convnext_tiny"] = ["features.7.2.", "classifier."],
    };

    public static string PathOf(string modelsDir, string model) => Path.Combine(modelsDir, model + ".onnx");

    /// <summary>The setting's trainable initializers; throws where the torch script's list (when written) names others.</summary>
    public static List<string> Trainable(Graph forward, string modelsDir, string model, string setting)
    {
        var parameters = Parameters.Of(forward).Select(v => v.Name).ToList();
        var trainable = setting == "full"
            ? parameters
            : parameters.Where(p => LastBlockPrefixes[model].Any(prefix => p.StartsWith(prefix, StringComparison.Ordinal))).ToList();
        if (TorchLists(modelsDir, model)?.GetValueOrDefault(setting) is { } torchList && !torchList.ToHashSet().SetEquals(trainable))
            throw new InvalidOperationException($"{model} {setting}: {trainable.Count} trainable initializers, but torch trains {torchList.Count} parameters under other names");
        return trainable;
    }

    // The torch script's lists of trainable parameter names, when it wrote them (a check that both sides train the same tensors).
    private static Dictionary<string, List<string>>? TorchLists(string modelsDir, string model)
    {
        var path = Path.Combine(modelsDir, model + ".json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("trainable").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetString()!).ToList());
    }
}
