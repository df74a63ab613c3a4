using OnnxTrainer.Recipes;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Warmup_RisesLinearlyToBase()
    {
        var schedule = new LearningRateSchedule(ScheduleKind.Constant, 0.1, TotalSteps: 100, WarmupSteps: 4);
        Assert.Equal([0.025, 0.05, 0.075, 0.1, 0.1], Enumerable.Range(0, 5).Select(s => Math.Round(schedule.RateAt(s), 10)));
    }

    [Fact]
    public void Step_DecaysByGammaEveryStepSize()
    {
        var schedule = new LearningRateSchedule(ScheduleKind.Step, 1.0, TotalSteps: 100, StepSize: 10, Gamma: 0.5);
        Assert.Equal(1.0, schedule.RateAt(9));
        Assert.Equal(0.5, schedule.RateAt(10));
        Assert.Equal(0.25, schedule.RateAt(25));
    }

    [Fact]
    public void Cosine_EndsAtMinimumAndIsHalfwayInTheMiddle()
    {
        var schedule = new LearningRateSchedule(ScheduleKind.Cosine, 1.0, TotalSteps: 110, WarmupSteps: 10, MinimumRate: 0.1);
        Assert.Equal(1.0, schedule.RateAt(10), 12);
        Assert.Equal(0.55, schedule.RateAt(60), 12);
        Assert.Equal(0.1, schedule.RateAt(110), 12);
        Assert.Equal(0.1, schedule.RateAt(500), 12);
    }
}
