namespace OnnxTrainer.Data;

/// <summary>
/// One batch of model input: <see cref="Images"/> as N*C*H*W floats and <see cref="Labels"/> as N
/// class indices, N = <see cref="Count"/> (the batch size, or fewer for a kept last batch). The
/// arrays belong to the consumer; the loader never touches them again.
/// </summary>
public sealed class DataBatch
{
    internal DataBatch(float[] images, long[] labels, int[] sampleIndices, long[] shape)
    {
        Images = images;
        Labels = labels;
        SampleIndices = sampleIndices;
        Shape = shape;
    }

    /// <summary>Normalized images, <see cref="Shape"/> in NCHW order.</summary>
    public float[] Images { get; }

    /// <summary>Class index of each image (int64, as the training graph's <c>labels</c> input wants).</summary>
    public long[] Labels { get; }

    /// <summary>Dataset index of each image, to trace predictions back to files.</summary>
    public int[] SampleIndices { get; }

    /// <summary>Tensor shape of <see cref="Images"/>: [N, C, H, W].</summary>
    public long[] Shape { get; }

    /// <summary>Number of images, N.</summary>
    public int Count => Labels.Length;
}
