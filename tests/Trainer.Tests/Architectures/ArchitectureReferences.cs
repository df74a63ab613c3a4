using System.Text.Json;
using OnnxTrainer.Architectures;

namespace OnnxTrainer.Tests.Architectures;

/// <summary>
/// The committed torch references in tests/fixtures/architectures/ (written by generate_references.py there):
/// per configuration, the builder options and torch's parameters and running statistics with their shapes.
/// </summary>
internal static class ArchitectureReferences
{
    private static readonly Lazy<string> FolderPath = new(() => RepositoryPaths.Of("tests/fixtures/architectures"));
    private static readonly Lazy<Dictionary<string, TorchArchitecture>> All = new(Load);

    public static string Folder => FolderPath.Value;

    public static IEnumerable<string> Names => All.Value.Keys;

    public static TorchArchitecture Get(string name) => All.Value[name];

    private static Dictionary<string, TorchArchitecture> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "architectures.json")));
        var result = new Dictionary<string, TorchArchitecture>(StringComparer.Ordinal);
        foreach (var config in document.RootElement.EnumerateArray())
        {
            var o = config.GetProperty("options");
            string family = o.GetProperty("architecture").GetString()!;
            var options = new ArchitectureOptions
            {
                Classes = o.GetProperty("classes").GetInt32(),
                InputChannels = o.GetProperty("in_channels").GetInt32(),
                SmallInputStem = o.GetProperty("small_stem").GetBoolean(),
            };
            options = family == ArchitectureFactory.ResNet
                ? options with { Width = o.GetProperty("width").GetInt32(), BlocksPerStage = [.. o.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt32())] }
                : options with { WidthMultiplier = o.GetProperty("width_multiplier").GetDouble(), Stages = o.GetProperty("stages").GetInt32() };
            string name = config.GetProperty("name").GetString()!;
            result[name] = new TorchArchitecture(name, family, options, config.GetProperty("parameter_count").GetInt64(),
                Shapes(config.GetProperty("parameters")), Shapes(config.GetProperty("running_statistics")));
        }
        return result;
    }

    private static List<(string Name, long[] Shape)> Shapes(JsonElement list) =>
        [.. list.EnumerateArray().Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt64()).ToArray()))];
}
