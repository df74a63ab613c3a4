using OnnxTrainer.Artifacts;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

public class DropoutMasksTests
{
    private static readonly DropoutMasks Masks = new([new DropoutMask("a.mask", 500, 0.3f), new DropoutMask("b.mask", 40, 0.5f)], seed: 9);

    [Fact]
    public void Draw_SamePosition_SameMasks_OtherPositions_OtherMasks()
    {
        var first = Masks.Draw(64, epoch: 2, batch: 5);
        Assert.Equal(first[0].Values, Masks.Draw(64, 2, 5)[0].Values);
        Assert.Equal(first[1].Values, Masks.Draw(64, 2, 5)[1].Values);
        Assert.NotEqual(first[0].Values, Masks.Draw(64, 2, 6)[0].Values);
        Assert.NotEqual(first[0].Values, Masks.Draw(64, 3, 5)[0].Values);
        Assert.NotEqual(first[0].Values, new DropoutMasks(Masks.Masks, seed: 10).Draw(64, 2, 5)[0].Values);
    }

    [Fact]
    public void Draw_DropsAtTheRatio_ScalesTheRest()
    {
        var drawn = Masks.Draw(200, 0, 0);
        Assert.Equal(["a.mask", "b.mask"], drawn.Select(d => d.Name));
        Assert.Equal([200L, 500L], drawn[0].Shape);
        Assert.Equal([200L, 40L], drawn[1].Shape);
        foreach (var ((_, values, _), mask) in drawn.Zip(Masks.Masks))
        {
            Assert.All(values, v => Assert.True(v == 0f || v == 1f / (1f - mask.Ratio), $"{v}"));
            double dropped = values.Count(v => v == 0) / (double)values.Length;
            // 100,000 and 8,000 Bernoulli draws: 4 standard deviations are 0.006 and 0.022.
            Assert.InRange(dropped, mask.Ratio - (mask.Width > 100 ? 0.006 : 0.022), mask.Ratio + (mask.Width > 100 ? 0.006 : 0.022));
        }
    }
}
