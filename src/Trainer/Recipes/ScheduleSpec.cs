namespace OnnxTrainer.Recipes;

/// <summary>Learning rate over epochs: linear warmup, then constant, step decay (gamma every step_size epochs) or cosine down to min_lr.</summary>
public sealed record ScheduleSpec(ScheduleKind Kind, double WarmupEpochs, int StepSize, double Gamma, double MinLr);
