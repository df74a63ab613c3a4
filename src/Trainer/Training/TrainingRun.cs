using OnnxTrainer.Reports;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Ir;
using OnnxTrainer.Recipes;
using Spectre.Console;

namespace OnnxTrainer.Training;

/// <summary>
/// The training loop: stages of trainable parameter sets, epochs of batches through the frozen prefix
/// (cached when deterministic) and the trainable suffix, validation, metrics log, atomic checkpoints,
/// early stopping, and resume that reproduces the uninterrupted run.
/// </summary>
public sealed class TrainingRun
{
    public const string MetricsFile = "metrics.jsonl";
    public const string LogFile = "run.log";
    private const string BestDirectory = "best";

    private readonly RunSetup _setup;
    private readonly TrainingRunOptions _options;
    private readonly StopSignal _stop;
    private readonly LiveProgress _progress;
    private readonly TextWriter _log;
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly MetricsLog _metrics;
    private readonly EarlyStopping _early;
    private readonly DataLoader _trainLoader;
    private readonly DataLoader? _valLoader;
    private readonly List<EpochMetrics> _epochs = [];
    private Dictionary<string, Tensor>? _best;
    private int _bestEpoch;
    private readonly HashSet<string> _reportedSkips = new(StringComparer.Ordinal);

    private TrainingRun(RunSetup setup, TrainingRunOptions options, StopSignal stop, TextWriter log)
    {
        _setup = setup;
        _options = options;
        _stop = stop;
        _log = log;
        _progress = LiveProgress.ToStandardError(options.ShowProgress);
        _parameters = new Dictionary<string, Tensor>(setup.InitialParameters());
        _metrics = new MetricsLog(Path.Combine(options.RunDirectory, MetricsFile));
        var recipe = setup.Recipe;
        bool accuracy = recipe.EarlyStopping?.Metric != EarlyStoppingMetric.ValLoss;
        _early = new EarlyStopping(higherIsBetter: accuracy, recipe.EarlyStopping?.Patience ?? 0);
        long cacheBytes = (long)recipe.Data.CacheMb << 20;
        _trainLoader = new DataLoader(setup.Data.Train, setup.Preprocessing, new DataLoaderOptions
        {
            BatchSize = recipe.BatchSize,
            Shuffle = true,
            Seed = recipe.Seed,
            Augmentation = Augmentation(recipe.Data.Augment),
            CacheBudgetBytes = cacheBytes,
        });
        if (setup.Data.Validation is { } validation)
            _valLoader = new DataLoader(validation, setup.Preprocessing, new DataLoaderOptions { BatchSize = recipe.BatchSize, Seed = recipe.Seed, CacheBudgetBytes = cacheBytes });
    }

    /// <summary>Runs the recipe to the end (or to a stop request, NaN loss or early stop) and returns what it kept.</summary>
    public static RunSummary Execute(RunSetup setup, TrainingRunOptions options, StopSignal stop)
    {
        Directory.CreateDirectory(options.RunDirectory);
        using var log = new StreamWriter(Path.Combine(options.RunDirectory, LogFile), append: options.Resume) { AutoFlush = true };
        return new TrainingRun(setup, options, stop, log).Run();
    }

    private RunSummary Run()
    {
        var recipe = _setup.Recipe;
        LogData();
        var start = new LoopPosition(0, 0, 0);
        int epoch = 0;
        Checkpoint? resumed = null;
        if (_options.Resume && Checkpoint.Exists(_options.RunDirectory))
        {
            resumed = Checkpoint.Load(_options.RunDirectory);
            if (resumed.RecipeHash != recipe.Hash)
                throw new InvalidOperationException($"{_options.RunDirectory}: the checkpoint was made with another recipe (hash {resumed.RecipeHash[..12]}, now {recipe.Hash[..12]}); resume with the same recipe or start a new run");
            foreach (var name in _parameters.Keys.ToList())
                _parameters[name] = resumed.Require(name, _parameters[name].Dims);
            start = LoopPosition.Decode(resumed.RngState);
            epoch = resumed.Epoch;
            _early.Restore(resumed.BestMetric ?? _early.Best, start.EpochsWithoutImprovement);
            if (Checkpoint.Exists(Path.Combine(_options.RunDirectory, BestDirectory)))
            {
                var best = Checkpoint.Load(Path.Combine(_options.RunDirectory, BestDirectory));
                _best = new(best.Tensors.Where(kv => _parameters.ContainsKey(kv.Key)).ToDictionary());
                _bestEpoch = best.Epoch - 1; // saved after its epoch, as the count of epochs done
            }
            _metrics.TruncateFrom(epoch);
            _epochs.AddRange(MetricsLog.Read(_metrics.Path));
            Say($"resuming at epoch {epoch + 1}, batch {start.Batch + 1} (stage {start.Stage + 1})");
        }
        else
        {
            if (File.Exists(_metrics.Path)) File.Delete(_metrics.Path);
            if (recipe.BatchNorm == BatchNormPolicy.AdaBn) AdaptBatchNorm();
        }

        string? stopReason = null;
        for (int stage = start.Stage; stage < _setup.Plan.Stages.Count && stopReason is null; stage++)
        {
            var plan = _setup.Plan.Stages[stage];
            int stageFirstEpoch = _setup.Plan.Stages.Take(stage).Sum(s => s.Epochs);
            var graphs = StageGraphs.Build(_setup.ForwardWith(_parameters), plan, recipe.Optimizer, _setup.Loss, _setup.TrainsBatchNorm, recipe.Seed,
                _options.ExecutionOrDefault.ResolvedTarget);
            if (stage == 0 && resumed is null)
            {
                graphs.Write(_options.RunDirectory);
                SaveCheckpoint(_options.RunDirectory, null, 0, 0, new LoopPosition(0, 0, 0), plan.Trainable, recipe.Optimizer.LearningRate);
            }
            bool resumingHere = resumed is not null && stage == start.Stage;
            var execution = _options.ExecutionOrDefault;
            int chunks = ChunkPolicy.Chunks(execution, graphs.BatchStatistics.Count > 0, graphs.PositionsPerImage, recipe.BatchSize);
            using var session = new TrainingSession(graphs.LoopTraining, graphs.LoopEval, graphs.Optimizer,
                [.. plan.Trainable.Select(name => (name, _parameters[name]))], resumingHere ? resumed!.Tensors : null, execution, chunks,
                [.. graphs.BatchStatistics.SelectMany(b => new[] { b.BatchMean, b.BatchVariance })], _setup.Loss.ClassWeights,
                line => Say(Markup.Escape(line)));
            if (resumingHere) session.Step = resumed!.Step;
            using var prefix = graphs.Prefix is null ? null : new PrefixRunner(graphs.Prefix.Prefix, execution);
            var stageRun = new StageRun(this, plan, session, prefix, Schedule(plan), graphs.BatchStatistics, new DropoutMasks(graphs.DropoutMasks, recipe.Seed));
            Say($"stage {stage + 1}/{_setup.Plan.Stages.Count}: {plan.Trainable.Count} trainable tensors, {plan.Epochs} epoch(s)" +
                (chunks > 1 ? $", batches in {chunks} chunks at once" : "") +
                (prefix is null ? "" : $", frozen prefix up to '{graphs.Prefix!.Boundary}' runs forward only" + (stageRun.Cacheable ? " (cached)" : "")));

            for (; epoch < stageFirstEpoch + plan.Epochs && stopReason is null; epoch++)
            {
                int firstBatch = resumingHere && epoch == resumed!.Epoch ? start.Batch : 0;
                stopReason = stageRun.RunEpoch(stage, epoch, firstBatch);
                if (stopReason is not null) break;
                if (_early.ShouldStop)
                {
                    Say($"early stopping: {recipe.EarlyStopping!.Metric} has not improved for {_early.Patience} epochs");
                    break;
                }
            }
            foreach (var (name, value) in session.Parameters()) _parameters[name] = value;
            if (_early.ShouldStop) break;
        }

        var keptEpoch = _best is null ? _epochs.LastOrDefault() : _epochs.Single(e => e.Epoch == _bestEpoch);
        return new RunSummary(_options.RunDirectory, _epochs, keptEpoch, _best ?? _parameters, _setup.Data.Train.Classes, stopReason is null, stopReason);
    }

    /// <summary>AdaBN: running statistics re-estimated on the training images before the first step (they are saved in the checkpoints).</summary>
    private void AdaptBatchNorm()
    {
        var plain = new DataLoader(_setup.Data.Train, _setup.Preprocessing, new DataLoaderOptions { BatchSize = _setup.Recipe.BatchSize, Seed = _setup.Recipe.Seed });
        var adapted = BatchNormAdaptation.Estimate(_setup.ForwardWith(_parameters), plain, _options.ExecutionOrDefault);
        foreach (var (name, value) in adapted) _parameters[name] = value;
        Say($"AdaBN: re-estimated {adapted.Count / 2} BatchNorm layers' statistics on {_setup.Data.Train.Count} training images");
    }

    private LearningRateSchedule Schedule(StagePlan plan)
    {
        var spec = _setup.Recipe.Schedule;
        long perEpoch = Math.Max(_trainLoader.BatchesPerEpoch, 1);
        return new LearningRateSchedule(spec.Kind, plan.LearningRate, plan.Epochs * perEpoch,
            (long)Math.Round(spec.WarmupEpochs * perEpoch), spec.StepSize * perEpoch, spec.Gamma, spec.MinLr);
    }

    private void SaveCheckpoint(string directory, TrainingSession? session, long step, int epoch, LoopPosition position, IReadOnlyList<string> trainable, double learningRate)
    {
        var tensors = new Dictionary<string, Tensor>(_parameters);
        if (session is not null)
            foreach (var (name, value) in session.Snapshot()) tensors[name] = value;
        new Checkpoint
        {
            Step = step,
            Epoch = epoch,
            LearningRate = learningRate,
            RngState = position.Encode(),
            BestMetricName = _setup.Recipe.EarlyStopping?.Metric.ToString() ?? (_valLoader is null ? null : "ValAccuracy"),
            BestMetric = double.IsFinite(_early.Best) ? _early.Best : null,
            RecipeHash = _setup.Recipe.Hash,
            TrainableParameters = trainable,
            Tensors = tensors,
        }.Save(directory);
    }

    private void LogData()
    {
        var data = _setup.Data;
        Say($"classes ({data.Train.Classes.Count}): " + string.Join(", ", data.Train.Classes.Zip(data.Train.ClassCounts, (c, n) => $"{c} {n}")));
        if (data.Validation is { } val) Say($"validation images: {val.Count}");
        ReportSkips("while scanning the data");
    }

    /// <summary>
    /// Logs the unusable files not reported yet (the scan finds some; decoding finds damage behind an intact header)
    /// and names any class left without a usable training image.
    /// </summary>
    private void ReportSkips(string when)
    {
        var data = _setup.Data;
        var fresh = data.Train.Skipped.Concat(data.Validation?.Skipped ?? []).Where(s => _reportedSkips.Add(s.Path)).ToList();
        if (fresh.Count == 0) return;
        foreach (var skipped in fresh) _log.WriteLine($"skipped {skipped.Path}: {skipped.Reason}");
        Say($"[yellow]{fresh.Count} unusable image(s) skipped {when}[/], listed in {LogFile}");
        var usable = data.Train.UsableClassCounts();
        for (int label = 0; label < usable.Count; label++)
            if (usable[label] == 0)
                Say($"[red]class '{Markup.Escape(data.Train.Classes[label])}' has no usable training image left[/]: the model cannot learn it");
    }

    private void Say(string markup)
    {
        _log.WriteLine(Markup.Remove(markup));
        if (_options.ShowProgress) AnsiConsole.MarkupLine(markup);
    }

    private static AugmentationOptions Augmentation(AugmentSpec spec) => new()
    {
        RandomResizedCrop = spec.RandomResizedCrop is not null,
        CropScale = spec.RandomResizedCrop is { } crop ? (crop.MinScale, crop.MaxScale) : (0.08, 1.0),
        CropRatio = spec.RandomResizedCrop is { } r ? (r.MinRatio, r.MaxRatio) : (3.0 / 4.0, 4.0 / 3.0),
        HorizontalFlip = spec.HorizontalFlip,
        RotationDegrees = spec.Rotation,
        Brightness = spec.ColorJitter?.Brightness ?? 0,
        Contrast = spec.ColorJitter?.Contrast ?? 0,
        Saturation = spec.ColorJitter?.Saturation ?? 0,
    };

    /// <summary>One stage's epochs: its session, prefix, feature caches and schedule.</summary>
    private sealed class StageRun(TrainingRun run, StagePlan plan, TrainingSession session, PrefixRunner? prefix, LearningRateSchedule schedule,
        IReadOnlyList<BatchStatistics> batchStatistics, DropoutMasks dropout)
    {
        private readonly FeatureCache? _trainCache = prefix is not null && !run._setup.Recipe.Data.Augment.IsRandom && CacheBytes(run) > 0
            ? new FeatureCache(prefix.FeatureLength, CacheBytes(run)) : null;
        private readonly FeatureCache? _valCache = prefix is not null && CacheBytes(run) > 0 ? new FeatureCache(prefix.FeatureLength, CacheBytes(run)) : null;

        public bool Cacheable => _trainCache is not null;

        /// <summary>Runs one epoch; returns why the run must stop, or null.</summary>
        public string? RunEpoch(int stage, int epoch, int firstBatch)
        {
            var recipe = run._setup.Recipe;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double lossSum = 0, lr = schedule.RateAt(session.Step);
            int seen = 0, correct = 0, batchIndex = firstBatch;
            string? stop = null;
            int batches = run._trainLoader.BatchesPerEpoch;

            // Returns the batch's loss, for the progress display.
            float Step(float[] inputs, long[] shape, long[] labels)
            {
                lr = schedule.RateAt(session.Step);
                var masks = dropout.Masks.Count == 0 ? null : dropout.Draw(labels.Length, epoch, batchIndex);
                var result = session.TrainStep(inputs, shape, labels, (float)lr, masks);
                if (!float.IsFinite(result.Loss))
                {
                    stop = $"the loss became {result.Loss} at epoch {epoch + 1}, batch {batchIndex + 1}; the last good checkpoint is kept (try a lower learning rate)";
                    return result.Loss;
                }
                UpdateRunningStatistics(result);
                lossSum += result.Loss * labels.Length;
                correct += result.CorrectAmongTop(labels, 1);
                seen += labels.Length;
                batchIndex++;
                if (run._stop.StepCompleted())
                {
                    run.SaveCheckpoint(run._options.RunDirectory, session, session.Step, epoch, new LoopPosition(stage, batchIndex, run._early.EpochsWithoutImprovement), plan.Trainable, lr);
                    stop = $"stopped on request at epoch {epoch + 1}, batch {batchIndex}; resume with --resume";
                }
                return result.Loss;
            }

            var epochBatches = run._trainLoader.EpochBatches(epoch);
            bool fromCache = _trainCache is not null && epochBatches.All(b => _trainCache.ContainsAll(b));
            string phase = $"epoch {epoch + 1}/{recipe.Epochs}" +
                (prefix is null ? "" : fromCache ? " (cached features)" : _trainCache is not null ? " (frozen prefix, caching features)" : " (frozen prefix)");
            run._progress.Run(phase, batches, "batches", progress =>
            {
                if (fromCache)
                {
                    foreach (var indices in epochBatches.Skip(firstBatch))
                    {
                        var labels = indices.Select(i => (long)run._setup.Data.Train.Samples[i].Label).ToArray();
                        progress.Advance(1, labels.Length, Step(_trainCache!.Gather(indices), [indices.Length, .. prefix!.FeatureShape], labels));
                        if (stop is not null) return;
                    }
                    return;
                }
                foreach (var batch in run._trainLoader.ReadEpoch(epoch).Skip(firstBatch))
                {
                    var (inputs, shape) = Inputs(batch, _trainCache);
                    progress.Advance(1, batch.Count, Step(inputs, shape, batch.Labels));
                    if (stop is not null) return;
                }
            }, done: firstBatch);
            if (stop is not null) return stop;

            foreach (var (name, value) in session.Parameters()) run._parameters[name] = value;
            var (valLoss, valAccuracy, valTop5) = Validate();
            run.ReportSkips($"while decoding in epoch {epoch + 1}");
            double seconds = clock.Elapsed.TotalSeconds;
            var metrics = new EpochMetrics(epoch, stage, lr, lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1),
                valLoss, valAccuracy, valTop5, seen / Math.Max(seconds, 1e-9), seconds);
            run._metrics.Append(metrics);
            run._epochs.Add(metrics);

            bool hasVal = run._valLoader is not null;
            double monitored = recipe.EarlyStopping?.Metric == EarlyStoppingMetric.ValLoss ? valLoss : valAccuracy;
            bool best = hasVal && run._early.Record(monitored);
            bool lastOfStage = epoch + 1 == run._setup.Plan.Stages.Take(stage + 1).Sum(s => s.Epochs);
            var next = lastOfStage ? new LoopPosition(stage + 1, 0, run._early.EpochsWithoutImprovement) : new LoopPosition(stage, 0, run._early.EpochsWithoutImprovement);
            if (best)
            {
                run._best = new Dictionary<string, Tensor>(run._parameters);
                run._bestEpoch = epoch;
                run.SaveCheckpoint(Path.Combine(run._options.RunDirectory, BestDirectory), session, session.Step, epoch + 1, next, plan.Trainable, lr);
            }
            // A new stage starts with fresh optimizer state and step count, so its checkpoint carries neither.
            run.SaveCheckpoint(run._options.RunDirectory, lastOfStage ? null : session, lastOfStage ? 0 : session.Step, epoch + 1, next, plan.Trainable, lr);
            run.Say($"epoch {epoch + 1}/{recipe.Epochs}  lr {lr:G3}  train loss {metrics.TrainLoss:F4} acc {metrics.TrainAccuracy:P1}" +
                (hasVal ? $"  val loss {valLoss:F4} acc [bold]{valAccuracy:P1}[/] top-5 {valTop5:P1}" : "") +
                $"  {metrics.ImagesPerSecond:F0} img/s" + (best ? "  [green]best[/]" : ""));
            return null;
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
                var current = run._parameters[name];
                var updated = new float[batch.Length];
                BatchNormTraining.UpdateRunning(current.Span<float>(), batch, momentum, updated);
                run._parameters[name] = Tensor.FromFloats(current.Dims, updated);
            }
        }

        /// <summary>Loss, accuracy and top-5 accuracy on the validation set (NaN when there is none).</summary>
        private (double Loss, double Accuracy, double Top5) Validate()
        {
            if (run._valLoader is not { } loader) return (double.NaN, double.NaN, double.NaN);
            var runningStatistics = StageGraphs.RunningStatisticNames(batchStatistics).Select(name => (name, run._parameters[name])).ToList();
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
            run._progress.Run("validation", loader.BatchesPerEpoch, "batches", progress =>
            {
                foreach (var (inputs, shape, labels) in Batches())
                {
                    var result = session.Evaluate(inputs, shape, labels, runningStatistics);
                    loss += result.Loss * labels.Length;
                    correct += result.CorrectAmongTop(labels, 1);
                    top5 += result.CorrectAmongTop(labels, Math.Min(5, result.Classes));
                    seen += labels.Length;
                    progress.Advance(1, labels.Length, result.Loss);
                }
            });
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

        /// <summary>Cached features get the recipe's cache budget (cache_mb; 0 turns caching off).</summary>
        private static long CacheBytes(TrainingRun run) => (long)run._setup.Recipe.Data.CacheMb << 20;
    }
}
