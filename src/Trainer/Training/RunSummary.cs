using OnnxTrainer.Reports;

namespace OnnxTrainer.Training;

/// <summary>What a finished (or stopped) run reports; <see cref="Parameters"/> are the kept values, those of <see cref="Kept"/>.</summary>
/// <param name="Kept">The epoch whose parameters are kept: the best by the monitored metric when there is validation (as early
/// stopping judged it), else the last; null before the first epoch ends.</param>
public sealed record RunSummary(
    string RunDirectory,
    IReadOnlyList<EpochMetrics> Epochs,
    EpochMetrics? Kept,
    IReadOnlyDictionary<string, Ir.Tensor> Parameters,
    IReadOnlyList<string> Classes,
    bool Completed,
    string? StopReason);
