using OnnxTrainer.Inference;
using OnnxTrainer.Reports;
using Xunit;

namespace OnnxTrainer.Tests.Reports;

public class EvaluationTests
{
    /// <summary>Predictions for one image: <paramref name="order"/> lists class indices best first.</summary>
    private static Prediction[] Ranked(params int[] order) =>
        [.. order.Select((c, rank) => new Prediction($"c{c}", c, 1f / (rank + 2)))];

    [Fact]
    public void PerClass_KnownConfusion_PrecisionRecallF1()
    {
        var evaluation = new Evaluation(["a", "b", "c"]);
        evaluation.Add("1", 0, Ranked(0, 1, 2));
        evaluation.Add("2", 0, Ranked(1, 0, 2));
        evaluation.Add("3", 1, Ranked(1, 0, 2));
        evaluation.Add("4", 1, Ranked(1, 2, 0));

        var metrics = evaluation.PerClass();

        Assert.Equal(0.75, evaluation.Accuracy);
        Assert.Equal(1, evaluation.Count(0, 1));
        Assert.Equal((1.0, 0.5, 2.0 / 3, 2L), (metrics[0].Precision, metrics[0].Recall, metrics[0].F1, metrics[0].Support));
        Assert.Equal(2.0 / 3, metrics[1].Precision, 12);
        Assert.Equal(1.0, metrics[1].Recall);
        Assert.True(double.IsNaN(metrics[2].Precision) && double.IsNaN(metrics[2].Recall) && double.IsNaN(metrics[2].F1));
    }

    [Fact]
    public void TopNAccuracy_LabelSixthOrLater_Misses()
    {
        var evaluation = new Evaluation([.. Enumerable.Range(0, 7).Select(i => $"c{i}")]);
        evaluation.Add("hit", 4, Ranked(0, 1, 2, 3, 4, 5, 6));
        evaluation.Add("miss", 5, Ranked(0, 1, 2, 3, 4, 5, 6));

        Assert.Equal(0.5, evaluation.TopNAccuracy);
        Assert.Equal(0, evaluation.Accuracy);
    }

    [Fact]
    public void Worst_MisclassifiedOnly_LowestTrueProbabilityFirst()
    {
        var evaluation = new Evaluation(["a", "b", "c"]);
        evaluation.Add("right", 0, Ranked(0, 1, 2));
        evaluation.Add("second", 0, Ranked(1, 0, 2));
        evaluation.Add("third", 0, Ranked(1, 2, 0));

        Assert.Equal(["third", "second"], evaluation.Worst(5).Select(i => i.Path));
    }
}
