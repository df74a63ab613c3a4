namespace OnnxTrainer.Training;

/// <summary>The trainable parameters of each stage (one stage when the recipe has none) and the backbone parameters to re-initialize first.</summary>
public sealed record TrainablePlan(IReadOnlyList<StagePlan> Stages, IReadOnlyList<string> Reinitialized);
