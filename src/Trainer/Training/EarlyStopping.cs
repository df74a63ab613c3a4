namespace OnnxTrainer.Training;

/// <summary>Tracks the best value of the monitored metric and says when it has not improved for <see cref="Patience"/> epochs.</summary>
public sealed class EarlyStopping(bool higherIsBetter, int patience)
{
    public int Patience { get; } = patience;
    public double Best { get; private set; } = higherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>Records an epoch's value; true when it is a new best (the caller keeps that checkpoint).</summary>
    public bool Record(double value)
    {
        bool improved = higherIsBetter ? value > Best : value < Best;
        if (improved)
        {
            Best = value;
            EpochsWithoutImprovement = 0;
        }
        else EpochsWithoutImprovement++;
        return improved;
    }

    public bool ShouldStop => Patience > 0 && EpochsWithoutImprovement >= Patience;

    /// <summary>Restores the state saved in a checkpoint.</summary>
    public void Restore(double best, int epochsWithoutImprovement)
    {
        Best = best;
        EpochsWithoutImprovement = epochsWithoutImprovement;
    }
}
