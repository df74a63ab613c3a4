namespace OnnxTrainer.Data;

/// <summary>Batching, ordering, augmentation and resource settings of a <see cref="DataLoader"/>.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Visit the samples in a new random order each epoch (seeded by <see cref="Seed"/> and the epoch). Off for evaluation.</summary>
    public bool Shuffle { get; init; }

    /// <summary>The run's seed: with the epoch and sample index it fixes the order and every augmentation draw.</summary>
    public int Seed { get; init; }

    /// <summary>Drop the last batch when it is smaller than <see cref="BatchSize"/> (else it is returned with fewer samples).</summary>
    public bool DropLast { get; init; }

    /// <summary>Random training transforms; <see cref="AugmentationOptions.None"/> for evaluation.</summary>
    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.None;

    /// <summary>Finished batches kept ready ahead of the consumer (bounds memory: each is BatchSize*C*H*W floats).</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>Samples decoded at once; defaults to one per core.</summary>
    public int DecodeParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Bytes of decoded images kept in memory across epochs (0 = no cache). Images are cached in
    /// the order first decoded until the budget is full; when the dataset fits, later epochs skip decoding.
    /// </summary>
    public long CacheBudgetBytes { get; init; }

    /// <summary>Throws on values outside their ranges.</summary>
    /// <exception cref="ArgumentException">Names the offending option.</exception>
    public void Validate()
    {
        if (BatchSize <= 0 || PrefetchBatches <= 0 || DecodeParallelism <= 0 || CacheBudgetBytes < 0)
        {
            throw new ArgumentException("Batch size, prefetch batches and decode parallelism must be positive, the cache budget non-negative.");
        }

        ArgumentNullException.ThrowIfNull(Augmentation);
        Augmentation.Validate();
    }
}
