using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Export;

/// <summary>Calibration: the minimum and maximum each named tensor takes when the model runs on sample batches.</summary>
public static class ActivationRanges
{
    /// <param name="batches">Input tensors (float, NCHW) of calibration images.</param>
    /// <exception cref="ArgumentException">No calibration batch was given.</exception>
    public static IReadOnlyDictionary<string, (float Min, float Max)> Measure(Model model, IReadOnlyCollection<string> tensors, IEnumerable<(float[] Images, long[] Shape)> batches)
    {
        var probe = model.Clone();
        foreach (var name in tensors)
            if (!probe.Graph.Outputs.Any(o => o.Name == name)) probe.Graph.Outputs.Add(probe.Graph[name]);

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(ModelWriter.ToBytes(probe), options);
        using var runOptions = new RunOptions();
        string input = session.InputNames[0];
        var names = tensors.ToArray();
        var ranges = names.ToDictionary(n => n, _ => (Min: float.PositiveInfinity, Max: float.NegativeInfinity));
        int seen = 0;
        foreach (var (images, shape) in batches)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(images, shape);
            using var outputs = session.Run(runOptions, [input], [value], names);
            for (int i = 0; i < names.Length; i++)
            {
                var data = outputs[i].GetTensorDataAsSpan<float>();
                var (min, max) = ranges[names[i]];
                foreach (var v in data)
                {
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
                ranges[names[i]] = (min, max);
            }
            seen++;
        }
        if (seen == 0) throw new ArgumentException("calibration needs at least one batch of images", nameof(batches));
        return ranges;
    }
}
