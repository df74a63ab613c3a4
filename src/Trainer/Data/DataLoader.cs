using System.Buffers;
using System.Threading.Channels;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// Turns an <see cref="ImageDataset"/> into fixed-size <see cref="DataBatch"/>es, epoch after epoch.
/// Samples are decoded, augmented and normalized on all cores while the consumer works on earlier
/// batches (bounded prefetch). Batches are reproducible: the order depends only on (seed, epoch),
/// each sample's augmentation only on (seed, epoch, sample index), never on thread timing.
/// A sample whose file turns out damaged is skipped (and added to <see cref="ImageDataset.Skipped"/>);
/// the next samples fill its place, so the run goes on.
/// </summary>
public sealed class DataLoader
{
    private readonly DataLoaderOptions _options;
    private readonly SampleTransform _transform;
    private readonly DecodedImageCache? _cache;

    /// <summary>Creates a loader producing input for a model with <paramref name="preprocessing"/>.</summary>
    /// <exception cref="ArgumentException">Invalid preprocessing or options.</exception>
    public DataLoader(ImageDataset dataset, PreprocessingSpec preprocessing, DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Dataset = dataset;
        Preprocessing = preprocessing;
        _options = options;
        _transform = new SampleTransform(new ImagePreprocessor(preprocessing), options.Augmentation);
        _cache = options.CacheBudgetBytes > 0 ? new DecodedImageCache(options.CacheBudgetBytes) : null;
    }

    /// <summary>The samples this loader reads.</summary>
    public ImageDataset Dataset { get; }

    /// <summary>How images become input tensors.</summary>
    public PreprocessingSpec Preprocessing { get; }

    /// <summary>Bytes of decoded images currently cached.</summary>
    public long CachedBytes => _cache?.Bytes ?? 0;

    /// <summary>Batches per epoch given the files known to be usable now (damaged files found later lower it).</summary>
    public int BatchesPerEpoch
    {
        get
        {
            var usable = Enumerable.Range(0, Dataset.Count).Count(i => !Dataset.IsSkipped(i));
            return _options.DropLast ? usable / _options.BatchSize : (usable + _options.BatchSize - 1) / _options.BatchSize;
        }
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> (0-based) from batch <paramref name="firstBatch"/> on, produced in the
    /// background as this sequence is consumed. Stopping early (break, dispose, cancellation) stops the work. The samples
    /// of the batches before <paramref name="firstBatch"/> are not read at all (a resumed run); that they are the same
    /// batches as before needs the files found damaged in them marked skipped beforehand (see <see cref="ImageDataset.MarkSkipped"/>).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IEnumerable<DataBatch> ReadEpoch(int epoch, int firstBatch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBatch);
        return ReadEpochCore(epoch, firstBatch, cancellationToken);
    }

    private IEnumerable<DataBatch> ReadEpochCore(int epoch, int firstBatch, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = Channel.CreateBounded<DataBatch>(new BoundedChannelOptions(_options.PrefetchBatches) { SingleReader = true, SingleWriter = true });
        var order = EpochOrder(epoch).Skip(firstBatch * _options.BatchSize).ToArray();
        var producer = Task.Run(() => ProduceAsync(epoch, order, batches.Writer, stop.Token), stop.Token);
        try
        {
            while (batches.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                while (batches.Reader.TryRead(out var batch))
                {
                    yield return batch;
                }
            }

            producer.GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Cancellation after an early stop, or a failure already rethrown through the channel.
            }
        }
    }

    /// <summary>
    /// The sample indices of each batch of an epoch, as <see cref="ReadEpoch"/> yields them when no new damaged
    /// file turns up: lets a consumer that already holds per-sample results (cached features) skip decoding.
    /// </summary>
    public IReadOnlyList<int[]> EpochBatches(int epoch)
    {
        var order = EpochOrder(epoch);
        int count = _options.DropLast ? order.Length / _options.BatchSize * _options.BatchSize : order.Length;
        return [.. order.Take(count).Chunk(_options.BatchSize)];
    }

    /// <summary>Sample order of an epoch. Shuffling all indices first, then dropping known-bad ones, keeps the order independent of when damage was discovered (resume-safe).</summary>
    private int[] EpochOrder(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (_options.Shuffle)
        {
            new DeterministicRandom(_options.Seed, DeterministicRandom.Purpose.Shuffle, epoch).Shuffle(order.AsSpan());
        }

        return order.Where(i => !Dataset.IsSkipped(i)).ToArray();
    }

    private async Task ProduceAsync(int epoch, int[] order, ChannelWriter<DataBatch> batches, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            // Samples are processed out of order on the thread pool but consumed in order, so
            // batch contents never depend on which thread finished first.
            var pending = Channel.CreateBounded<Task<ProcessedSample?>>(_options.BatchSize + 2 * _options.DecodeParallelism);
            // Not disposed: abandoned work items may still release it after a cancelled epoch.
            var slots = new SemaphoreSlim(_options.DecodeParallelism);
            var dispatcher = Task.Run(() => DispatchAsync(order, epoch, pending.Writer, slots, cancellationToken), cancellationToken);
            await AssembleAsync(pending.Reader, batches, cancellationToken).ConfigureAwait(false);
            await dispatcher.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            batches.TryComplete(failure);
        }
    }

    private async Task DispatchAsync(int[] order, int epoch, ChannelWriter<Task<ProcessedSample?>> pending, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var index in order)
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                var work = Task.Run(
                    () =>
                    {
                        try
                        {
                            return Process(index, epoch);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    },
                    CancellationToken.None);
                await pending.WriteAsync(work, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            pending.TryComplete();
        }
    }

    private async Task AssembleAsync(ChannelReader<Task<ProcessedSample?>> pending, ChannelWriter<DataBatch> batches, CancellationToken cancellationToken)
    {
        var spec = Preprocessing;
        var length = spec.TensorLength;
        var images = GC.AllocateUninitializedArray<float>(_options.BatchSize * length);
        var labels = new long[_options.BatchSize];
        var indices = new int[_options.BatchSize];
        var filled = 0;
        await foreach (var work in pending.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await work.ConfigureAwait(false) is not { } sample)
            {
                continue; // damaged file, already logged
            }

            sample.Tensor.AsSpan(0, length).CopyTo(images.AsSpan(filled * length, length));
            ArrayPool<float>.Shared.Return(sample.Tensor);
            labels[filled] = Dataset.Samples[sample.Index].Label;
            indices[filled] = sample.Index;
            if (++filled == _options.BatchSize)
            {
                await batches.WriteAsync(new DataBatch(images, labels, indices, Shape(filled)), cancellationToken).ConfigureAwait(false);
                images = GC.AllocateUninitializedArray<float>(_options.BatchSize * length);
                labels = new long[_options.BatchSize];
                indices = new int[_options.BatchSize];
                filled = 0;
            }
        }

        if (filled > 0 && !_options.DropLast)
        {
            await batches.WriteAsync(new DataBatch(images[..(filled * length)], labels[..filled], indices[..filled], Shape(filled)), cancellationToken).ConfigureAwait(false);
        }
    }

    private ProcessedSample? Process(int index, int epoch)
    {
        PixelImage? image = null;
        if (_cache?.TryGet(index, out image) != true)
        {
            try
            {
                image = Dataset.Decode(index, Preprocessing.Channels);
            }
            catch (ImageDecodeException e)
            {
                Dataset.RecordSkip(index, e);
                return null;
            }

            _cache?.TryAdd(index, image);
        }

        var tensor = ArrayPool<float>.Shared.Rent(Preprocessing.TensorLength);
        _transform.Apply(image!, new DeterministicRandom(_options.Seed, DeterministicRandom.Purpose.Augment, epoch, index), tensor);
        return new ProcessedSample(index, tensor);
    }

    private long[] Shape(int count) => Preprocessing.TensorShape(count);

    private sealed record ProcessedSample(int Index, float[] Tensor);
}
