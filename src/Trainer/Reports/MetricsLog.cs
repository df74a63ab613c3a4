using System.Text.Json;
using System.Text.Json.Serialization;

namespace OnnxTrainer.Reports;

/// <summary>Appends one JSON object per epoch to metrics.jsonl, flushed at once so a crash loses nothing already written.</summary>
public sealed class MetricsLog(string path)
{
    public string Path { get; } = path;

    public void Append(EpochMetrics metrics)
    {
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(JsonSerializer.Serialize(metrics, MetricsJsonContext.Default.EpochMetrics));
    }

    public static IReadOnlyList<EpochMetrics> Read(string path) =>
        File.Exists(path)
            ? [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize(l, MetricsJsonContext.Default.EpochMetrics)!)]
            : [];

    /// <summary>Keeps only the epochs before <paramref name="epoch"/> (a resumed run rewrites what follows its checkpoint).</summary>
    public void TruncateFrom(int epoch)
    {
        var kept = Read(Path).Where(m => m.Epoch < epoch).ToList();
        File.WriteAllLines(Path, kept.Select(m => JsonSerializer.Serialize(m, MetricsJsonContext.Default.EpochMetrics)));
    }
}

// A run without validation data has NaN validation metrics: written as "NaN" rather than failing the epoch.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(EpochMetrics))]
[JsonSerializable(typeof(Dictionary<string, double>))]
public sealed partial class MetricsJsonContext : JsonSerializerContext;
