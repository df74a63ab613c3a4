using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>
/// Learning rate per optimizer step: linear warmup from 0 over <see cref="WarmupSteps"/>, then constant,
/// step decay (times <see cref="Gamma"/> every <see cref="StepSize"/> steps) or cosine annealing down to
/// <see cref="MinimumRate"/> at <see cref="TotalSteps"/>, as torch's LinearLR + StepLR / CosineAnnealingLR.
/// </summary>
public sealed record LearningRateSchedule(
    ScheduleKind Shape, double BaseRate, long TotalSteps, long WarmupSteps = 0, long StepSize = 1, double Gamma = 0.1, double MinimumRate = 0)
{
    public double RateAt(long step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        long t = step - WarmupSteps;
        long span = Math.Max(TotalSteps - WarmupSteps, 1);
        return Shape switch
        {
            ScheduleKind.Constant => BaseRate,
            ScheduleKind.Step => BaseRate * Math.Pow(Gamma, t / Math.Max(StepSize, 1)),
            ScheduleKind.Cosine => MinimumRate + (BaseRate - MinimumRate) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, span) / span)),
            _ => throw new ArgumentOutOfRangeException(nameof(Shape)),
        };
    }
}
