namespace OnnxTrainer.Recipes;

/// <summary>
/// One stage of gradual unfreezing: the backbone parameters matching <see cref="Trainable"/> or the last
/// <see cref="UnfreezeLast"/> blocks train (with the head, always) for <see cref="Epochs"/> epochs.
/// </summary>
public sealed record StageSpec(IReadOnlyList<string>? Trainable, int? UnfreezeLast, int Epochs, double? LearningRate);
