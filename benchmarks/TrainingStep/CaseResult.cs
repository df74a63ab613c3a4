namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>The measurements of one (model, setting) case; times in milliseconds.</summary>
internal sealed record CaseResult(
    string Model,
    string Setting,
    int Batch,
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
    /// <summary>The PyTorch peers' steps, one entry per memory format, in the order of the options.</summary>
    public IReadOnlyList<PeerResult> Peers { get; init; } = [];
    public string Load { get; init; } = "";

    /// <summary>Our case process's resident memory and ONNX Runtime arenas.</summary>
    public MemoryReading? Memory { get; init; }

    /// <summary>Chunks the batch ran in, and the trainable layers' output positions per image that chose them.</summary>
    public int Chunks { get; init; } = 1;
    public double PositionsPerImage { get; init; }
}

/// <summary>One PyTorch peer's steps of a case (milliseconds).</summary>
internal sealed record PeerResult(string MemoryFormat, double Ms, double MinMs, double[] TimesMs, double OrtMs, MemoryReading Memory)
{
    /// <summary>ORT time over PyTorch time (medians): below 1 means our step is faster.</summary>
    public double Ratio => OrtMs / Ms;
}
