using System.Text;
using System.Text.Json;

namespace OnnxTrainer.Inference;

/// <summary>
/// The metadata_props keys an exported classifier carries beside its preprocessing (contract), and the
/// format of the <c>labels</c> entry: a JSON array of strings in output order. Written by the trainer's
/// exporter and read by <see cref="ImageClassifier"/>, so both sides share one definition.
/// </summary>
public static class ClassifierMetadata
{
    /// <summary>Class names in output order, as a JSON array of strings.</summary>
    public const string Labels = "labels";

    /// <summary>The training recipe (YAML), for provenance.</summary>
    public const string Recipe = "recipe";

    /// <summary>The run's final metrics (JSON), for provenance.</summary>
    public const string Metrics = "metrics";

    /// <summary>Formats <paramref name="labels"/> as the <c>labels</c> entry.</summary>
    public static string FormatLabels(IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var label in labels)
            {
                writer.WriteStringValue(label);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads a <c>labels</c> entry.</summary>
    /// <exception cref="FormatException">Not a non-empty JSON array of strings; the message names the key.</exception>
    public static IReadOnlyList<string> ParseLabels(string json)
    {
        ArgumentNullException.ThrowIfNull(json);

        // JsonDocument, not a serializer: no reflection, safe for trimming and AOT.
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
            {
                throw new FormatException($"Model metadata '{Labels}' must be a non-empty JSON array of strings.");
            }

            return document.RootElement.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException($"Model metadata '{Labels}' contains null.")).ToArray();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FormatException($"Model metadata '{Labels}' must be a JSON array of strings.", e);
        }
    }
}
