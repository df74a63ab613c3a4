namespace OnnxTrainer.Artifacts;

/// <summary>How the training graph's loss is formed from the logits.</summary>
public sealed record LossOptions(double LabelSmoothing = 0, IReadOnlyList<float>? ClassWeights = null);
