using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Training;

/// <summary>
/// AdaBN: re-estimates every BatchNorm layer's running mean and variance on the target training images
/// with forward passes only (BatchNorm in training mode, no augmentation), as the equal-weight average
/// over batches that torch keeps with momentum=None. The adapted statistics then stay frozen.
/// </summary>
public static class BatchNormAdaptation
{
    /// <returns>The new running statistics by initializer name.</returns>
    public static IReadOnlyDictionary<string, Tensor> Estimate(Model forward, DataLoader images, ExecutionOptions execution)
    {
        var model = forward.Clone();
        var statistics = BatchNormTraining.Apply(model.Graph, model.OpsetVersion, _ => true);
        if (statistics.Count == 0) return new Dictionary<string, Tensor>();
        model.Graph.Outputs.RemoveRange(0, model.Graph.Outputs.Count - 2 * statistics.Count);
        model.Graph.RemoveDeadNodes();

        using var options = execution.CreateSessionOptions();
        using var session = new InferenceSession(ModelWriter.ToBytes(model), options);
        using var runOptions = new RunOptions();
        var names = statistics.SelectMany(s => new[] { s.BatchMean, s.BatchVariance }).ToArray();
        var sums = names.Select(n => new double[model.Graph[n].Type!.KnownDims![0]]).ToArray();
        int batches = 0;
        string input = model.Graph.Inputs.Single().Name;
        foreach (var batch in images.ReadEpoch(0))
        {
            using var value = OrtValue.CreateTensorValueFromMemory(batch.Images, batch.Shape);
            using var outputs = session.Run(runOptions, [input], [value], names);
            for (int i = 0; i < names.Length; i++)
            {
                var data = outputs[i].GetTensorDataAsSpan<float>();
                for (int c = 0; c < data.Length; c++) sums[i][c] += data[c];
            }
            batches++;
        }
        if (batches == 0) throw new InvalidOperationException("AdaBN needs at least one training batch");

        var result = new Dictionary<string, Tensor>();
        for (int i = 0; i < statistics.Count; i++)
        {
            result[statistics[i].RunningMean] = Average(sums[2 * i], batches);
            result[statistics[i].RunningVariance] = Average(sums[2 * i + 1], batches);
        }
        return result;
    }

    private static Tensor Average(double[] sum, int count) =>
        Tensor.FromFloats([sum.Length], [.. sum.Select(v => (float)(v / count))]);
}
