using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>An image left out of training because it could not be used; the run log lists these.</summary>
/// <param name="Path">The file (or <c>file#index</c>) as the source names it.</param>
/// <param name="Failure">The kind of failure.</param>
/// <param name="Reason">What went wrong, for people.</param>
public sealed record SkippedFile(string Path, DecodeFailure Failure, string Reason);
