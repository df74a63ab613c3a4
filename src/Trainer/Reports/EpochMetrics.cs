namespace OnnxTrainer.Reports;

/// <summary>One line of the run's metrics log (metrics.jsonl): what an epoch achieved.</summary>
public sealed record EpochMetrics(
    int Epoch,
    int Stage,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double ValLoss,
    double ValAccuracy,
    double ValTop5,
    double ImagesPerSecond,
    double Seconds);
