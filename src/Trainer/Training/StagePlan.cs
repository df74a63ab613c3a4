namespace OnnxTrainer.Training;

/// <summary>
/// What one stage trains: <see cref="Trainable"/> in graph order (backbone first, then the head), each with its
/// multiplier of <see cref="LearningRate"/> in <see cref="LearningRateScales"/>.
/// </summary>
public sealed record StagePlan(int Epochs, double LearningRate, IReadOnlyList<string> Trainable, IReadOnlyDictionary<string, double> LearningRateScales);
