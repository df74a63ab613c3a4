using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using Xunit;

namespace OnnxTrainer.Tests.Autodiff;

public class CrossEntropyLossTests
{
    private static readonly long[] Labels = [2, 0, 3, 2, 1];
    private const int Classes = 4;

    /// <summary>PyTorch's CrossEntropyLoss(weight, label_smoothing, reduction='mean') written out directly.</summary>
    private static double Reference(double[] logits, double smoothing, float[]? weights)
    {
        double total = 0, normalizer = 0;
        for (int i = 0; i < Labels.Length; i++)
        {
            var row = logits.AsSpan(i * Classes, Classes);
            double max = double.MinValue;
            foreach (var v in row) max = Math.Max(max, v);
            double sumExp = 0;
            foreach (var v in row) sumExp += Math.Exp(v - max);
            double logSumExp = max + Math.Log(sumExp);
            double w(int c) => weights?[c] ?? 1.0;
            double nll = -(row[(int)Labels[i]] - logSumExp) * w((int)Labels[i]);
            double smooth = 0;
            for (int c = 0; c < Classes; c++) smooth += -(row[c] - logSumExp) * w(c);
            total += (1 - smoothing) * nll + smoothing / Classes * smooth;
            normalizer += w((int)Labels[i]);
        }
        return total / normalizer;
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.1, false)]
    [InlineData(0.0, true)]
    [InlineData(0.2, true)]
    public void Loss_ValueAndGradient_MatchReference(double smoothing, bool weighted)
    {
        float[]? weights = weighted ? [0.5f, 2f, 1f, 3f] : null;
        var check = new GradientCheck(DataType.Float);
        var data = check.RandomData([Labels.Length, Classes], -3, 3);
        var logits = check.Input("logits", [Labels.Length, Classes], data);
        var labels = check.Labels("labels", Labels);
        var loss = CrossEntropyLoss.Append(check.Builder, logits, labels, Classes, smoothing, weights);

        double actual = check.Evaluate(loss)[0].Data[0];
        double expected = Reference(Array.ConvertAll(data, v => (double)(float)v), smoothing, weights);
        Assert.Equal(expected, actual, 5);
        check.Verify(loss, 1e-2, 1e-4, epsilon: 1e-3);
    }
}
