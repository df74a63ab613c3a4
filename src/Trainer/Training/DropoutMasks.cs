using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;

namespace OnnxTrainer.Training;

/// <summary>
/// Draws the loop's dropout masks. A step's masks are a pure function of the run's seed and the step's position
/// (epoch, batch within it), so no generator state needs saving: a resumed run draws exactly the masks the
/// uninterrupted run drew at the same position.
/// </summary>
public sealed class DropoutMasks(IReadOnlyList<DropoutMask> masks, int seed)
{
    public IReadOnlyList<DropoutMask> Masks => masks;

    /// <summary>The masks of one step, [count, width] each, in <see cref="Masks"/> order: 0 with probability ratio, else 1/(1 - ratio).</summary>
    public IReadOnlyList<(string Name, float[] Values, long[] Shape)> Draw(int count, int epoch, int batch)
    {
        var random = new DeterministicRandom(seed, DeterministicRandom.Purpose.Dropout, epoch, batch);
        var drawn = new List<(string, float[], long[])>(masks.Count);
        foreach (var mask in masks)
        {
            float kept = 1f / (1f - mask.Ratio); // in float, as ONNX Runtime's Dropout kernel scales
            var values = new float[count * mask.Width];
            for (int i = 0; i < values.Length; i++) values[i] = random.NextDouble() < mask.Ratio ? 0f : kept;
            drawn.Add((mask.Name, values, [count, mask.Width]));
        }
        return drawn;
    }
}
