using System.Text.Json.Nodes;

namespace ClassifierService;

/// <summary>The answer of <c>GET /model</c>: what a client needs to know to send images and read the answers.</summary>
/// <param name="Labels">Class names in output order.</param>
/// <param name="TopK">Predictions per image.</param>
/// <param name="Preprocessing">The model's preprocessing under its metadata keys (<c>input_size</c>, <c>resize</c>, <c>mean</c>, ...).</param>
public sealed record ModelDescription(IReadOnlyList<string> Labels, int TopK, IReadOnlyDictionary<string, JsonNode?> Preprocessing);
