namespace ClassifierService;

/// <summary>The <c>Classifier</c> configuration section (appsettings.json, environment <c>Classifier__Model</c>, or <c>--model</c>).</summary>
public sealed class ClassifierSettings
{
    public const string Section = "Classifier";

    /// <summary>Path of the exported model.onnx; required.</summary>
    public string Model { get; set; } = "";

    /// <summary>Predictions per image, best first.</summary>
    public int TopK { get; set; } = 5;

    /// <summary>Threads ONNX Runtime uses inside one request; 0 lets it choose. Concurrent requests run in parallel on top of this.</summary>
    public int Threads { get; set; }

    /// <summary>The largest request body accepted (an encoded image, or the multipart form that carries it); larger gets 413.</summary>
    public long MaxImageBytes { get; set; } = 10 * 1024 * 1024;
}
