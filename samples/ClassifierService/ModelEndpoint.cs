using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Inference;

namespace ClassifierService;

/// <summary><c>GET /model</c>: the labels and the preprocessing the loaded model applies.</summary>
public static class ModelEndpoint
{
    public static ModelDescription Handle(ImageClassifier classifier, ClassifierSettings settings) =>
        new(classifier.Labels, Math.Min(settings.TopK, classifier.Labels.Count), classifier.Preprocessing.ToMetadata().ToDictionary(e => e.Key, e => Value(e.Value)));

    /// <summary>Metadata values are JSON (<c>[32,32]</c>, <c>0.5</c>) or bare words (<c>RGB</c>): keep numbers and arrays as such.</summary>
    private static JsonNode? Value(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
