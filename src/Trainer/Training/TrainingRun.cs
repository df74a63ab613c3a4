using OnnxTrainer.Reports;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Ir;
using OnnxTrainer.Recipes;
using OnnxTrainer.Terminal;
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
        // Checked before the folder and its log are made: a mistyped --out with --resume leaves nothing behind.
        if (options.Resume && !Checkpoint.Exists(options.RunDirectory))
            throw new CheckpointFormatException($"no checkpoint in {options.RunDirectory}; run without --resume");
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
        if (_options.Resume)
        {
            resumed = Checkpoint.Load(_options.RunDirectory);
            if (resumed.RecipeHash != recipe.Hash)
                throw new CheckpointFormatException($"{_options.RunDirectory}: the checkpoint was made with another recipe (hash {resumed.RecipeHash[..Math.Min(12, resumed.RecipeHash.Length)]}, now {recipe.Hash[..12]}); resume with the same recipe or start a new run");
            start = ResumePoint(resumed);
            foreach (var name in _parameters.Keys.ToList())
                _parameters[name] = resumed.Require(name, _parameters[name].Dims);
            // Damage found before the stop shaped the batches: skip those files as the run did (without decoding them again).
            _setup.Data.Train.MarkSkipped(resumed.SkippedFiles);
            _reportedSkips.UnionWith(resumed.SkippedFiles);
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
            if (recipe.BatchNorm == BatchNormPolicy.AdaBn)
            {
                _stop.ThrowIfRequested("re-estimating the BatchNorm statistics (AdaBN)");
                AdaptBatchNorm();
            }
        }

        string? stopReason = null;
        for (int stage = start.Stage; stage < _setup.Plan.Stages.Count && stopReason is null; stage++)
        {
            var plan = _setup.Plan.Stages[stage];
            int stageFirstEpoch = _setup.Plan.Stages.Take(stage).Sum(s => s.Epochs);
            _stop.ThrowIfRequested($"building stage {stage + 1}'s training graphs");
            var graphs = StageGraphs.Build(_setup.ForwardWith(_parameters), plan, recipe.Optimizer, _setup.Loss, _setup.TrainsBatchNorm, recipe.Seed,
                _options.ExecutionOrDefault.ResolvedTarget);
            if (stage == 0 && resumed is null)
            {
                graphs.Write(_options.RunDirectory);
                SaveCheckpoint(_options.RunDirectory, null, 0, 0, new LoopPosition(0, 0, 0), plan.Trainable, recipe.Optimizer.LearningRate);
            }
            bool resumingHere = resumed is not null && stage == start.Stage;
            _stop.ThrowIfRequested($"starting stage {stage + 1}'s training session");
            var execution = _options.ExecutionOrDefault;
            int chunks = ChunkPolicy.Chunks(execution, graphs.BatchStatistics.Count > 0, graphs.PositionsPerImage, recipe.BatchSize);
            using var session = new TrainingSession(graphs.LoopTraining, graphs.LoopEval, graphs.Optimizer,
                [.. plan.Trainable.Select(name => (name, _parameters[name]))], resumingHere ? resumed!.Tensors : null, execution, chunks,
                [.. graphs.BatchStatistics.SelectMany(b => new[] { b.BatchMean, b.BatchVariance })], _setup.Loss.ClassWeights,
                line => Say(TerminalText.Markup(line)));
            if (resumingHere) session.Step = resumed!.Step;
            using var prefix = graphs.Prefix is null ? null : new PrefixRunner(graphs.Prefix.Prefix, execution);
            var stageRun = new StageRun(session, prefix, Schedule(plan), graphs.BatchStatistics, new DropoutMasks(graphs.DropoutMasks, recipe.Seed),
                _trainLoader, _valLoader, _parameters, (long)recipe.Data.CacheMb << 20, deterministicData: !recipe.Data.Augment.IsRandom, _stop, _progress);
            Say($"stage {stage + 1}/{_setup.Plan.Stages.Count}: {plan.Trainable.Count} trainable tensors, {plan.Epochs} epoch(s)" +
                (chunks > 1 ? $", batches in {chunks} chunks at once" : "") +
                (prefix is null ? "" : $", frozen prefix up to '{TerminalText.Markup(graphs.Prefix!.Boundary)}' runs forward only" + (stageRun.Cacheable ? " (cached)" : "")));

            for (; epoch < stageFirstEpoch + plan.Epochs && stopReason is null; epoch++)
            {
                bool resumingEpoch = resumingHere && epoch == resumed!.Epoch;
                var outcome = stageRun.RunEpoch(epoch, resumingEpoch ? start.Batch : 0, resumingEpoch ? start.Tally : default, $"epoch {epoch + 1}/{recipe.Epochs}");
                ReportSkips($"while decoding in epoch {epoch + 1}");
                if (outcome is EpochStopped stopped)
                {
                    stopReason = Stopped(session, stage, epoch, stopped, plan.Trainable);
                    break;
                }
                EpochDone(session, stage, epoch, (EpochCompleted)outcome, plan.Trainable);
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

    /// <summary>
    /// Where the checkpoint says the loop was, checked against the recipe: the manifest's own SHA-256 rules out an edit,
    /// and this rules out a manifest from another build of the loop, whose position would read past the end of the plan.
    /// </summary>
    private LoopPosition ResumePoint(Checkpoint resumed)
    {
        string manifest = Checkpoint.ManifestPath(_options.RunDirectory);
        CheckpointFormatException Misfit(string what) => new($"{manifest}: {what}; the checkpoint does not fit the recipe, start the run afresh");
        var position = LoopPosition.Decode(resumed.RngState)
            ?? throw Misfit($"rng_state holds [{string.Join(", ", resumed.RngState)}], not the loop position's {LoopPosition.Length} counts");
        var stages = _setup.Plan.Stages;
        if (position.Stage > stages.Count) throw Misfit($"stage {position.Stage + 1} is past the recipe's {stages.Count} stage(s)");
        int stageFirst = stages.Take(position.Stage).Sum(s => s.Epochs), stageEnd = stageFirst + (position.Stage < stages.Count ? stages[position.Stage].Epochs : 0);
        if (resumed.Epoch < stageFirst || resumed.Epoch > stageEnd)
            throw Misfit($"epoch {resumed.Epoch + 1} is not within stage {position.Stage + 1}'s epochs {stageFirst + 1} to {stageEnd}");
        int batches = _trainLoader.BatchesPerEpoch;
        if (position.Batch > batches) throw Misfit($"batch {position.Batch + 1} is past the {batches} batches of an epoch");
        if (resumed.Step > (long)(resumed.Epoch - stageFirst + 1) * batches)
            throw Misfit($"step {resumed.Step} is more than stage {position.Stage + 1} takes by epoch {resumed.Epoch + 1} ({batches} per epoch)");
        if (position.EpochsWithoutImprovement > resumed.Epoch) throw Misfit($"{position.EpochsWithoutImprovement} epochs without improvement after {resumed.Epoch} epochs");
        var tally = position.Tally;
        if (tally.Seen > (long)position.Batch * _setup.Recipe.BatchSize || tally.Correct > tally.Seen || !(tally.LossSum >= 0) || double.IsInfinity(tally.LossSum))
            throw Misfit($"the epoch's figures so far ({tally.Seen} images, {tally.Correct} right, loss sum {tally.LossSum}) do not fit {position.Batch} batches of {_setup.Recipe.BatchSize}");
        return position;
    }

    /// <summary>Why the run stops; a requested stop checkpoints the state after its last step, where --resume goes on.</summary>
    private string Stopped(TrainingSession session, int stage, int epoch, EpochStopped stopped, IReadOnlyList<string> trainable)
    {
        if (!stopped.Requested)
            return $"{stopped.Reason} at epoch {epoch + 1}, batch {stopped.Batch + 1}; the last good checkpoint is kept (try a lower learning rate)";
        SaveCheckpoint(_options.RunDirectory, session, session.Step, epoch, new LoopPosition(stage, stopped.Batch, _early.EpochsWithoutImprovement, stopped.Tally), trainable, stopped.LearningRate);
        return $"{stopped.Reason} at epoch {epoch + 1}, batch {stopped.Batch}; resume with --resume";
    }

    /// <summary>Logs a completed epoch, judges it for early stopping, keeps it when best, and checkpoints.</summary>
    private void EpochDone(TrainingSession session, int stage, int epoch, EpochCompleted done, IReadOnlyList<string> trainable)
    {
        var recipe = _setup.Recipe;
        var metrics = new EpochMetrics(epoch, stage, done.LearningRate, done.TrainLoss, done.TrainAccuracy, done.ValLoss, done.ValAccuracy, done.ValTop5,
            done.ImagesPerSecond, done.Seconds);
        _metrics.Append(metrics);
        _epochs.Add(metrics);

        bool hasVal = _valLoader is not null;
        double monitored = recipe.EarlyStopping?.Metric == EarlyStoppingMetric.ValLoss ? done.ValLoss : done.ValAccuracy;
        bool best = hasVal && _early.Record(monitored);
        bool lastOfStage = epoch + 1 == _setup.Plan.Stages.Take(stage + 1).Sum(s => s.Epochs);
        var next = new LoopPosition(lastOfStage ? stage + 1 : stage, 0, _early.EpochsWithoutImprovement);
        if (best)
        {
            _best = new Dictionary<string, Tensor>(_parameters);
            _bestEpoch = epoch;
            SaveCheckpoint(Path.Combine(_options.RunDirectory, BestDirectory), session, session.Step, epoch + 1, next, trainable, done.LearningRate);
        }
        // A new stage starts with fresh optimizer state and step count, so its checkpoint carries neither.
        SaveCheckpoint(_options.RunDirectory, lastOfStage ? null : session, lastOfStage ? 0 : session.Step, epoch + 1, next, trainable, done.LearningRate);
        Say($"epoch {epoch + 1}/{recipe.Epochs}  lr {done.LearningRate:G3}  train loss {done.TrainLoss:F4} acc {done.TrainAccuracy:P1}" +
            (hasVal ? $"  val loss {done.ValLoss:F4} acc [bold]{done.ValAccuracy:P1}[/] top-5 {done.ValTop5:P1}" : "") +
            $"  {done.ImagesPerSecond:F0} img/s" + (best ? "  [green]best[/]" : ""));
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
            SkippedFiles = [.. _setup.Data.Train.Skipped.Select(s => s.Path)],
            Tensors = tensors,
        }.Save(directory);
    }

    private void LogData()
    {
        var data = _setup.Data;
        Say($"classes ({data.Train.Classes.Count}): " + string.Join(", ", data.Train.Classes.Zip(data.Train.ClassCounts, (c, n) => $"{TerminalText.Markup(c)} {n}")));
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
        // Nothing left to learn from, or to judge by (every epoch would score 0 % and the first be kept as best): stop here.
        if (data.Train.UsableClassCounts().Sum() == 0)
            throw new DatasetException($"{RunDatasets.SourceName(_setup.Recipe.Data.Train)}: none of the {data.Train.Count} training images could be decoded (listed in {Path.Combine(_options.RunDirectory, LogFile)})");
        if (data.Validation is { } validation && validation.UsableClassCounts().Sum() == 0)
            throw new DatasetException($"{RunDatasets.SourceName(_setup.Recipe.Data.Val ?? _setup.Recipe.Data.Train)}: none of the {validation.Count} validation images could be decoded (listed in {Path.Combine(_options.RunDirectory, LogFile)})");
        var usable = data.Train.UsableClassCounts();
        for (int label = 0; label < usable.Count; label++)
            if (usable[label] == 0)
                Say($"[red]class '{TerminalText.Markup(data.Train.Classes[label])}' has no usable training image left[/]: the model cannot learn it");
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
}
