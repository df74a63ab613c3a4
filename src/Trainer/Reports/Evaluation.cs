using OnnxTrainer.Inference;

namespace OnnxTrainer.Reports;

/// <summary>
/// Accumulates classifications of labelled images into a confusion matrix and derives accuracy, top-5
/// accuracy and per-class precision, recall and F1 (what <c>evaluate</c> prints and the report draws).
/// </summary>
public sealed class Evaluation(IReadOnlyList<string> labels)
{
    public const int TopN = 5;

    private readonly long[,] _confusion = new long[labels.Count, labels.Count];
    private readonly List<EvaluatedImage> _images = [];
    private long _topNHits;

    public IReadOnlyList<string> Labels { get; } = labels;

    /// <summary>Counts by [true class, predicted class].</summary>
    public long Count(int label, int predicted) => _confusion[label, predicted];

    public int Total => _images.Count;

    public double Accuracy => Total == 0 ? double.NaN : (double)Enumerable.Range(0, Labels.Count).Sum(c => _confusion[c, c]) / Total;

    public double TopNAccuracy => Total == 0 ? double.NaN : (double)_topNHits / Total;

    /// <param name="predictions">The model's predictions for the image, best first; at least the top <see cref="TopN"/> (or all classes).</param>
    public void Add(string path, int label, IReadOnlyList<Prediction> predictions)
    {
        var best = predictions[0];
        var labelProbability = predictions.FirstOrDefault(p => p.Index == label).Probability;
        _confusion[label, best.Index]++;
        if (predictions.Take(TopN).Any(p => p.Index == label)) _topNHits++;
        _images.Add(new EvaluatedImage(path, label, best.Index, labelProbability, best.Probability));
    }

    public IReadOnlyList<ClassMetrics> PerClass()
    {
        var result = new ClassMetrics[Labels.Count];
        for (int c = 0; c < Labels.Count; c++)
        {
            long truePositives = _confusion[c, c], predicted = 0, actual = 0;
            for (int other = 0; other < Labels.Count; other++)
            {
                predicted += _confusion[other, c];
                actual += _confusion[c, other];
            }
            double precision = predicted == 0 ? double.NaN : (double)truePositives / predicted;
            double recall = actual == 0 ? double.NaN : (double)truePositives / actual;
            double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : predicted + actual == 0 ? double.NaN : 0;
            result[c] = new ClassMetrics(Labels[c], precision, recall, f1, actual);
        }
        return result;
    }

    /// <summary>Misclassified images, the lowest probability on the true class first: what to look at first.</summary>
    public IReadOnlyList<EvaluatedImage> Worst(int count) =>
        [.. _images.Where(i => i.Predicted != i.Label).OrderBy(i => i.LabelProbability).ThenBy(i => i.Path, StringComparer.Ordinal).Take(count)];
}
