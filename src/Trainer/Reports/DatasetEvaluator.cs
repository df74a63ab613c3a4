using OnnxTrainer.Data;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Reports;

/// <summary>Classifies every image of a labelled dataset with a classifier; the evaluation behind <c>evaluate</c> and <c>export</c>.</summary>
public static class DatasetEvaluator
{
    private const int BatchSize = 32;

    /// <summary>
    /// Dataset classes are matched to the model's labels by name. An image that fails to decode is
    /// skipped and listed (with those the dataset refused when opened), never fatal.
    /// </summary>
    /// <param name="classifier">Loaded with a top-k of at least <see cref="Evaluation.TopN"/> (all classes for exact report probabilities).</param>
    /// <param name="progress">Told how many images were just classified.</param>
    /// <exception cref="FormatException">A class folder is not a label of the model.</exception>
    public static (Evaluation Evaluation, IReadOnlyList<string> Skipped) Run(ImageClassifier classifier, ImageDataset dataset, Action<int>? progress = null)
    {
        var labelIndex = classifier.Labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var toModel = dataset.Classes.Select(c => labelIndex.TryGetValue(c, out int i)
            ? i : throw new FormatException($"class folder '{c}' is not a label of the model (labels: {string.Join(", ", classifier.Labels)})")).ToArray();
        var evaluation = new Evaluation(classifier.Labels);
        var skipped = dataset.Skipped.Select(s => $"{s.Path}: {s.Reason}").ToList();
        foreach (var chunk in dataset.Samples.Chunk(BatchSize))
        {
            var paths = chunk.Select(s => s.Source).ToArray();
            IReadOnlyList<IReadOnlyList<Prediction>?> predictions;
            try
            {
                predictions = classifier.ClassifyBatch(paths);
            }
            catch (ImageDecodeException)
            {
                // Find the damaged image(s) of this batch one by one; the rest still count.
                predictions = [.. paths.Select(path => ClassifyOrSkip(classifier, path, skipped))];
            }
            for (int i = 0; i < chunk.Length; i++)
                if (predictions[i] is { } p) evaluation.Add(chunk[i].Source, toModel[chunk[i].Label], p);
            progress?.Invoke(chunk.Length);
        }
        return (evaluation, skipped);
    }

    private static IReadOnlyList<Prediction>? ClassifyOrSkip(ImageClassifier classifier, string path, List<string> skipped)
    {
        try
        {
            return classifier.Classify(path);
        }
        catch (ImageDecodeException e)
        {
            skipped.Add(e.Message);
            return null;
        }
    }
}
