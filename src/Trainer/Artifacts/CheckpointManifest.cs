namespace OnnxTrainer.Artifacts;

/// <summary>
/// The body of <c>checkpoint.json</c>. <see cref="TensorsSha256"/> ties it to the one safetensors file it
/// was written with, so a manifest never pairs with tensors from another save; <see cref="ManifestSha256"/> covers
/// every other field (and so the tensors' hash too), so an edited manifest is refused rather than resumed from.
/// </summary>
internal sealed record CheckpointManifest
{
    public required int FormatVersion { get; init; }
    public required long Step { get; init; }
    public required int Epoch { get; init; }
    public required double LearningRate { get; init; }
    public required ulong[] RngState { get; init; }
    public string? BestMetricName { get; init; }
    public double? BestMetric { get; init; }
    public required string RecipeHash { get; init; }
    public required string[] TrainableParameters { get; init; }
    /// <summary>Absent in manifests written before it existed: none.</summary>
    public string[]? SkippedFiles { get; init; }
    public required string TensorsSha256 { get; init; }
    /// <summary>SHA-256 of this manifest's JSON written with this field null; absent in manifests of format 1.</summary>
    public string? ManifestSha256 { get; init; }
}
