using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// One stage's epochs: each trains on every batch (through the frozen prefix, from its feature cache when the data
/// is deterministic), updates the running statistics of BatchNorm layers that train, and validates. What the run
/// does with an epoch (metrics log, early stopping, checkpoints) is its caller's; this class reads only what it is given.
/// </summary>
/// <param name="parameters">The run's parameter values: the BatchNorm running statistics are updated here after each step.</param>
/// <param name="cacheBytes">Budget of each feature cache (training, validation); 0 turns caching off.</param>
/// <param name="deterministicData">The training images do not change between epochs (no random augmentation), so
/// their prefix features can be cached.</param>
internal sealed class StageRun(TrainingSession session, PrefixRunner? prefix, LearningRateSchedule schedule,
    IReadOnlyList<BatchStatistics> batchStatistics, DropoutMasks dropout, DataLoader trainLoader, DataLoader? valLoader,
    IDictionary<string, Tensor> parameters, long cacheBytes, bool deterministicData, StopSignal stop, LiveProgress progress)
{
    private readonly FeatureCache? _trainCache = prefix is not null && deterministicData && cacheBytes > 0
        ? new FeatureCache(prefix.FeatureLength, cacheBytes) : null;
    private readonly FeatureCache? _valCache = prefix is not null && cacheBytes > 0 ? new FeatureCache(prefix.FeatureLength, cacheBytes) : null;

    /// <summary>Training batches reuse the frozen prefix's features after the first epoch.</summary>
    public bool Cacheable => _trainCache is not null;

    /// <summary>Trains epoch <paramref name="epoch"/> from batch <paramref name="firstBatch"/> on, then validates it.</summary>
    /// <param name="tally">The epoch's figures over the batches before <paramref name="firstBatch"/> (a resumed run's).</param>
    /// <param name="label">How the progress display names the epoch ("epoch 3/10").</param>
    public EpochOutcome RunEpoch(int epoch, int firstBatch, EpochTally tally, string label)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double lr = schedule.RateAt(session.Step);
        int seenBefore = tally.Seen, batchIndex = firstBatch;
        EpochStopped? stopped = null;

        // Returns the batch's loss, for the progress display.
        float Step(float[] inputs, long[] shape, long[] labels)
        {
            lr = schedule.RateAt(session.Step);
            var masks = dropout.Masks.Count == 0 ? null : dropout.Draw(labels.Length, epoch, batchIndex);
            var result = session.TrainStep(inputs, shape, labels, (float)lr, masks);
            if (!float.IsFinite(result.Loss))
            {
                stopped = new EpochStopped(batchIndex, Requested: false, $"the loss became {result.Loss}", lr, tally);
                return result.Loss;
            }
            UpdateRunningStatistics(result);
            tally = tally.Add(result.Loss, labels.Length, result.CorrectAmongTop(labels, 1));
            batchIndex++;
            if (stop.StepCompleted()) stopped = new EpochStopped(batchIndex, Requested: true, "stopped on request", lr, tally);
            return result.Loss;
        }

        var epochBatches = trainLoader.EpochBatches(epoch);
        bool fromCache = _trainCache is not null && epochBatches.All(b => _trainCache.ContainsAll(b));
        string phase = label + (prefix is null ? "" : fromCache ? " (cached features)" : _trainCache is not null ? " (frozen prefix, caching features)" : " (frozen prefix)");
        var samples = trainLoader.Dataset.Samples;
        progress.Run(phase, trainLoader.BatchesPerEpoch, "batches", bar =>
        {
            if (fromCache)
            {
                foreach (var indices in epochBatches.Skip(firstBatch))
                {
                    var labels = indices.Select(i => (long)samples[i].Label).ToArray();
                    bar.Advance(1, labels.Length, Step(_trainCache!.Gather(indices), [indices.Length, .. prefix!.FeatureShape], labels));
                    if (stopped is not null) return;
                }
                return;
            }
            foreach (var batch in trainLoader.ReadEpoch(epoch, firstBatch))
            {
                var (inputs, shape) = Inputs(batch, _trainCache);
                bar.Advance(1, batch.Count, Step(inputs, shape, batch.Labels));
                if (stopped is not null) return;
            }
        }, done: firstBatch);
        if (stopped is not null) return stopped;

        foreach (var (name, value) in session.Parameters()) parameters[name] = value;
        // Stopped during validation: every batch has trained, so the run resumes after the last one and validates.
        if (Validate() is not var (valLoss, valAccuracy, valTop5)) return new EpochStopped(batchIndex, Requested: true, "stopped on request during validation", lr, tally);
        return new EpochCompleted(lr, tally.Loss, tally.Accuracy, valLoss, valAccuracy, valTop5,
            (tally.Seen - seenBefore) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), clock.Elapsed.TotalSeconds);
    }

    /// <summary>running = (1 - momentum) running + momentum batch, as torch does after each training step.</summary>
    private void UpdateRunningStatistics(StepResult result)
    {
        for (int i = 0; i < batchStatistics.Count; i++)
        {
            var statistic = batchStatistics[i];
            Update(statistic.RunningMean, result.Extras[2 * i], statistic.Momentum);
            Update(statistic.RunningVariance, result.Extras[2 * i + 1], statistic.Momentum);
        }

        void Update(string name, float[] batch, double momentum)
        {
            var current = parameters[name];
            var updated = new float[batch.Length];
            BatchNormTraining.UpdateRunning(current.Span<float>(), batch, momentum, updated);
            parameters[name] = Tensor.FromFloats(current.Dims, updated);
        }
    }

    /// <summary>Loss, accuracy and top-5 accuracy on the validation set (NaN when there is none); null when a stop was requested during it.</summary>
    private (double Loss, double Accuracy, double Top5)? Validate()
    {
        if (valLoader is not { } loader) return (double.NaN, double.NaN, double.NaN);
        // Read once per pass: the statistics do not change while validating.
        var runningStatistics = StageGraphs.RunningStatisticNames(batchStatistics).Select(name => (name, parameters[name].ToFloats(), parameters[name].Dims)).ToList();
        double loss = 0;
        int seen = 0, correct = 0, top5 = 0;
        var dataset = loader.Dataset;
        IEnumerable<(float[] Inputs, long[] Shape, long[] Labels)> Batches()
        {
            var epochBatches = loader.EpochBatches(0);
            if (_valCache is not null && epochBatches.All(b => _valCache.ContainsAll(b)))
            {
                foreach (var indices in epochBatches)
                    yield return (_valCache.Gather(indices), [indices.Length, .. prefix!.FeatureShape], indices.Select(i => (long)dataset.Samples[i].Label).ToArray());
                yield break;
            }
            foreach (var batch in loader.ReadEpoch(0))
            {
                var (inputs, shape) = Inputs(batch, _valCache);
                yield return (inputs, shape, batch.Labels);
            }
        }
        progress.Run("validation", loader.BatchesPerEpoch, "batches", bar =>
        {
            foreach (var (inputs, shape, labels) in Batches())
            {
                if (stop.Requested) return;
                var result = session.Evaluate(inputs, shape, labels, runningStatistics);
                loss += result.Loss * labels.Length;
                correct += result.CorrectAmongTop(labels, 1);
                top5 += result.CorrectAmongTop(labels, Math.Min(5, result.Classes));
                seen += labels.Length;
                bar.Advance(1, labels.Length, result.Loss);
            }
        });
        if (stop.Requested) return null;
        return (loss / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1), (double)top5 / Math.Max(seen, 1));
    }

    /// <summary>What the session reads for a batch: the images, or the frozen prefix's output for them.</summary>
    private (float[] Inputs, long[] Shape) Inputs(DataBatch batch, FeatureCache? cache)
    {
        if (prefix is null) return (batch.Images, batch.Shape);
        var features = prefix.Run(batch.Images, batch.Shape);
        cache?.Store(batch.SampleIndices, features);
        return (features, [batch.Count, .. prefix.FeatureShape]);
    }
}
