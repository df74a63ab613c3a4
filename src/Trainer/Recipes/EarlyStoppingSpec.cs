namespace OnnxTrainer.Recipes;

/// <summary>Stop after <see cref="Patience"/> epochs without improvement of <see cref="Metric"/>; the same metric picks the best checkpoint.</summary>
public sealed record EarlyStoppingSpec(EarlyStoppingMetric Metric, int Patience);
