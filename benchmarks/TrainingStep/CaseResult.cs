namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>The measurements of one (model, setting) case; times in milliseconds.</summary>
internal sealed record CaseResult(
    string Model,
    string Setting,
    int Trainable,
    int Nodes,
    double BuildMs,
    double SerializeMs,
    double SessionMs,
    double OrtMs,
    double OrtMinMs,
    float Loss,
    double[] OrtTimesMs)
{
    public double? TorchMs { get; init; }
    public double? TorchMinMs { get; init; }
    public double[]? TorchTimesMs { get; init; }
    public string Load { get; init; } = "";

    /// <summary>Chunks the batch ran in, and the trainable layers' output positions per image that chose them.</summary>
    public int Chunks { get; init; } = 1;
    public double PositionsPerImage { get; init; }

    /// <summary>ORT time over PyTorch time: below 1 means our step is faster.</summary>
    public double? Ratio => TorchMs is { } t && t > 0 ? OrtMs / t : null;
}
