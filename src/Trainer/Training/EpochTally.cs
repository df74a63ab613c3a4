namespace OnnxTrainer.Training;

/// <summary>
/// An epoch's training figures so far: the loss summed over its images, how many were classified right, how many were
/// seen. A stop mid-epoch saves them, so the resumed epoch reports its loss and accuracy over all of its batches.
/// </summary>
internal readonly record struct EpochTally(double LossSum, int Correct, int Seen)
{
    public double Loss => LossSum / Math.Max(Seen, 1);

    public double Accuracy => (double)Correct / Math.Max(Seen, 1);

    /// <summary>The tally with one batch more: its mean loss over <paramref name="images"/> images, <paramref name="correct"/> of them right.</summary>
    public EpochTally Add(float meanLoss, int images, int correct) => new(LossSum + meanLoss * images, Correct + correct, Seen + images);
}
