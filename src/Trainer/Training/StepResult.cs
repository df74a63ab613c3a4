using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Training;

/// <summary>Loss and logits of one batch; logits are [Count, Classes] row-major; <see cref="Extras"/> are further requested outputs.</summary>
public sealed record StepResult(float Loss, float[] Logits, int Count, int Classes)
{
    public IReadOnlyList<float[]> Extras { get; init; } = [];

    /// <summary>Loss and logits of <paramref name="count"/> images from a run's outputs (loss first, then logits).</summary>
    internal static StepResult Read(IReadOnlyList<OrtValue> outputs, int count)
    {
        float loss = outputs[0].GetTensorDataAsSpan<float>()[0];
        var logits = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        return new StepResult(loss, logits, count, logits.Length / Math.Max(count, 1));
    }

    /// <summary>How many rows have the label among their top-k logits.</summary>
    public int CorrectAmongTop(ReadOnlySpan<long> labels, int k)
    {
        int correct = 0;
        for (int i = 0; i < Count; i++)
        {
            var row = Logits.AsSpan(i * Classes, Classes);
            float target = row[(int)labels[i]];
            int above = 0;
            for (int c = 0; c < Classes; c++)
                if (row[c] > target || (row[c] == target && c < labels[i])) above++;
            if (above < k) correct++;
        }
        return correct;
    }
}
