namespace OnnxTrainer.Artifacts;

/// <summary>A dropout mask input of the loop's training graph: float [N, <paramref name="Width"/>], each element 0 (dropped, with probability <paramref name="Ratio"/>) or 1/(1 - ratio).</summary>
public sealed record DropoutMask(string Name, long Width, float Ratio);
