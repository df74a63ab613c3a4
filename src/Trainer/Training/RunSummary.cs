using OnnxTrainer.Reports;
namespace OnnxTrainer.Training;

/// <summary>What a finished (or stopped) run reports; <see cref="Parameters"/> are the kept (best or last) values.</summary>
public sealed record RunSummary(
    string RunDirectory,
    IReadOnlyList<EpochMetrics> Epochs,
    IReadOnlyDictionary<string, Ir.Tensor> Parameters,
    IReadOnlyList<string> Classes,
    bool Completed,
    string? StopReason);
