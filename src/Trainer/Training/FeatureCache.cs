namespace OnnxTrainer.Training;

/// <summary>
/// Frozen-prefix outputs by dataset sample index, kept in memory once computed (generalized bottleneck
/// caching: valid only while the prefix's input is deterministic, i.e. without random augmentation).
/// Bounded by a byte budget; samples beyond it are recomputed.
/// </summary>
public sealed class FeatureCache(int featureLength, long budgetBytes)
{
    private readonly Dictionary<int, float[]> _features = [];

    public int FeatureLength { get; } = featureLength;
    public long Bytes => (long)_features.Count * FeatureLength * sizeof(float);

    /// <summary>Stores the rows of a batch of features for the given samples, while the budget allows.</summary>
    public void Store(ReadOnlySpan<int> sampleIndices, ReadOnlySpan<float> batchFeatures)
    {
        for (int i = 0; i < sampleIndices.Length; i++)
        {
            if (Bytes + (long)FeatureLength * sizeof(float) > budgetBytes) return;
            _features.TryAdd(sampleIndices[i], batchFeatures.Slice(i * FeatureLength, FeatureLength).ToArray());
        }
    }

    public bool ContainsAll(ReadOnlySpan<int> sampleIndices)
    {
        foreach (var index in sampleIndices)
            if (!_features.ContainsKey(index)) return false;
        return true;
    }

    /// <summary>The cached features of these samples as one batch array (all must be cached).</summary>
    public float[] Gather(ReadOnlySpan<int> sampleIndices)
    {
        var batch = new float[sampleIndices.Length * FeatureLength];
        for (int i = 0; i < sampleIndices.Length; i++)
            _features[sampleIndices[i]].CopyTo(batch, i * FeatureLength);
        return batch;
    }
}
