using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

[Collection(nameof(ConsoleCollection))] // one test redirects stderr
public class PhaseProgressTests
{
    [Fact]
    public void Describe_ResumedEpoch_CountsFromTheResumedBatchWithTheMeanLossOfItsImages()
    {
        var reported = 0;
        var progress = new PhaseProgress("epoch 2/5", 10, "batches", done: 4, _ => reported++);

        progress.Advance(1, 32, 1.0);
        progress.Advance(1, 16, 0.25);
        progress.Advance(1, 32, double.NaN); // a diverged batch: counted, its loss left out

        var line = progress.Describe(withEta: true);
        Assert.Equal(3, reported);
        Assert.Equal(7, progress.Done);
        Assert.StartsWith("epoch 2/5: 7/10 batches (70 %), ", line);
        Assert.Contains(" img/s, loss 0.7500, ETA ", line); // (32 * 1.0 + 16 * 0.25) / 48
        Assert.DoesNotContain("ETA", progress.Describe(withEta: false));
    }

    [Fact]
    public void Run_Disabled_RunsTheBodyAndPrintsNothing()
    {
        var error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            var sum = LiveProgress.ToStandardError(enabled: false).Run("evaluating", 3, "images", phase =>
            {
                for (int i = 0; i < 3; i++) phase.Advance(1, 1);
                return phase.Done;
            });
            Assert.Equal(3, sum);
        }
        finally
        {
            Console.SetError(error);
        }
        Assert.Equal("", captured.ToString());
    }
}
