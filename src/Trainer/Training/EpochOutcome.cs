namespace OnnxTrainer.Training;

/// <summary>How a <see cref="StageRun"/> epoch ended: <see cref="EpochCompleted"/> or <see cref="EpochStopped"/>.</summary>
internal abstract record EpochOutcome;

/// <summary>Every batch trained, then validated (validation figures are NaN without validation data).</summary>
internal sealed record EpochCompleted(double LearningRate, double TrainLoss, double TrainAccuracy, double ValLoss, double ValAccuracy, double ValTop5,
    double ImagesPerSecond, double Seconds) : EpochOutcome;

/// <summary>
/// Stopped before batch <paramref name="Batch"/>: on request (<paramref name="Requested"/>: the state after the last step is
/// worth a checkpoint, which resumes there with the epoch's <paramref name="Tally"/> so far) or because the loss diverged
/// (the last good checkpoint stays).
/// </summary>
internal sealed record EpochStopped(int Batch, bool Requested, string Reason, double LearningRate, EpochTally Tally) : EpochOutcome;
