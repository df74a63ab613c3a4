using System.Text.Json;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Tests.Fixtures;

/// <summary>
/// The models written by tests/fixtures/generate_models.py into tests/fixtures/generated/ (git-ignored, since
/// ResNet-18 alone is 47 MB). Tests that need them fail with a message saying how to produce them.
/// </summary>
public static class GeneratedFixtures
{
    /// <summary>Small-width models with a float64 gradient reference (<c>&lt;name&gt;.ref.safetensors</c>).</summary>
    public static readonly IReadOnlyList<string> SmallModels =
    [
        "resnet_small", "mobilenet_v2_small", "mobilenet_v3_small", "efficientnet_b0_small",
        "squeezenet1_1_small", "shufflenet_v2_x0_5_small", "densenet_small", "convnext_small",
        // torch.onnx.export's default (BatchNorm folded into Conv), and fresh models whose equal initializers the exporter
        // tied (BatchNorm scales and shifts; LayerNorm and Linear parameters).
        "resnet_small_folded", "resnet_small_tied", "convnext_small_tied",
    ];

    /// <summary>SmallResNet with no classifier, batch fixed at 1 (a Reshape to [1, -1] at the end), BatchNorm folded; output "features".</summary>
    public const string FeaturesBatch1 = "resnet_small_features_b1";

    /// <summary>
    /// The same models and weights exported at older opsets (<c>&lt;name&gt;_opset&lt;k&gt;</c>), for the opset upgrader:
    /// (old-opset fixture, the opset-17 fixture with the same weights).
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Current)> OldOpsetModels =
        [.. new[] { "resnet_small", "mobilenet_v2_small", "squeezenet1_1_small" }.SelectMany(m => new[] { 9, 11, 12 }.Select(k => ($"{m}_opset{k}", m)))];

    /// <summary>
    /// Full-width models at 224 px with BatchNorm statistics calibrated and every 1-D parameter moved off its default, with
    /// a float64 gradient reference at batch 2 and the activations near a kink: the 7x7 planes of the last stages.
    /// </summary>
    public static readonly IReadOnlyList<string> CalibratedModels = ["resnet18_calibrated", "mobilenet_v2_calibrated"];

    /// <summary>Every generated model: the full-size ResNet-18 (1000 classes, 224x224) and the small ones.</summary>
    public static readonly IReadOnlyList<string> AllModels = ["resnet18", .. SmallModels];

    private static readonly Lazy<string> Folder = new(() => RepositoryPaths.Of("tests/fixtures/generated"));
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Directory => Folder.Value;

    public static string ModelPath(string name) => Require(name + ".onnx");

    /// <summary>The model as the trainer reads it: with the initializers the exporter merged untied.</summary>
    public static Model Load(string name)
    {
        var model = ModelReader.Load(ModelPath(name));
        TiedInitializers.Untie(model.Graph);
        return model;
    }

    public static string ReferencePath(string name) => Require(name + ".ref.safetensors");

    public static FixtureInfo Info(string name) =>
        JsonSerializer.Deserialize<FixtureInfo>(File.ReadAllText(Require(name + ".json")), JsonOptions)
        ?? throw new InvalidOperationException($"{name}.json is empty");

    private static string Require(string file)
    {
        string path = Path.Combine(Directory, file);
        if (!File.Exists(path))
            throw new InvalidOperationException($"fixture '{path}' is missing: run tests/fixtures/generate.sh");
        return path;
    }
}
