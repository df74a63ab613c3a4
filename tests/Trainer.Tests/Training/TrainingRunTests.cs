using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;
using OnnxTrainer.Reports;
using OnnxTrainer.Tests.Fixtures;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

/// <summary>
/// The loop end to end on real data: a torchvision ResNet (small width, random weights) on Fashion-MNIST's
/// test images of classes 5-9 (Debian's dataset-fashion-mnist), a few hundred images per run.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class TrainingRunTests : IDisposable
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"training-run-{Guid.NewGuid():N}");

    public TrainingRunTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Recipe Recipe(string strategyLines, params string[] overrides)
    {
        Assert.True(File.Exists($"{FashionMnist}/t10k-images-idx3-ubyte.gz"), "install Debian's dataset-fashion-mnist (scripts/setup.sh)");
        string yaml = $"""
            name: test
            backbone:
              path: {GeneratedFixtures.ModelPath("resnet_small")}
            {strategyLines}
            data:
              train: {"{"} kind: idx, images: {FashionMnist}/t10k-images-idx3-ubyte.gz, labels: {FashionMnist}/t10k-labels-idx1-ubyte.gz, classes: [5, 6, 7, 8, 9] {"}"}
              val_split: 0.5
            optimizer: {"{"} kind: sgd, learning_rate: 0.002, momentum: 0.9 {"}"}
            epochs: 2
            batch_size: 50
            seed: 3
            """;
        string path = Path.Combine(_folder, "recipe.yaml");
        File.WriteAllText(path, yaml);
        return RecipeLoader.Load(path, overrides);
    }

    /// <summary>Keeps the runs small: the IDX set thinned to every 20th image (250 train, 250 validation).</summary>
    private static RunSetup Small(Recipe recipe)
    {
        var setup = RunSetup.Prepare(recipe);
        var train = setup.Data.Train.SplitStratified(0.95, 1).Train;
        var validation = setup.Data.Validation!.SplitStratified(0.95, 1).Train;
        return setup with { Data = new RunDatasets(train, validation) };
    }

    /// <param name="chunks">Chunks each batch runs in (0: the trainer's choice).</param>
    /// <param name="deviceResident">Run the device-resident loop (CUDA's) with the CPU provider.</param>
    private RunSummary Train(RunSetup setup, string name, bool resume = false, bool stopAfterFirstStep = false, int stopAfterSteps = 0, int chunks = 0,
        bool deviceResident = false)
    {
        using var stop = new StopSignal();
        if (stopAfterFirstStep) stop.RequestAfterSteps(1);
        if (stopAfterSteps > 0) stop.RequestAfterSteps(stopAfterSteps);
        return TrainingRun.Execute(setup, new TrainingRunOptions(Path.Combine(_folder, name), resume,
            new ExecutionOptions(Chunks: chunks, DeviceResident: deviceResident), ShowProgress: false), stop);
    }

    [Fact]
    public void FeatureExtraction_FrozenBackboneBitIdentical_HeadLearns()
    {
        var setup = Small(Recipe("strategy: feature-extraction", "epochs=12", "optimizer.learning_rate=0.005"));
        var summary = Train(setup, "fe");
        var initial = setup.InitialParameters();
        foreach (var (name, value) in initial.Where(kv => !kv.Key.StartsWith("head", StringComparison.Ordinal)))
            Assert.True(value.Data.Span.SequenceEqual(summary.Parameters[name].Data.Span), $"frozen '{name}' changed");
        Assert.False(initial["head.out.weight"].Data.Span.SequenceEqual(summary.Parameters["head.out.weight"].Data.Span));
        Assert.True(summary.Epochs[^1].TrainLoss < summary.Epochs[0].TrainLoss, "training loss must fall: " + string.Join(", ", summary.Epochs.Select(e => $"{e.TrainLoss:F3}/{e.ValAccuracy:P0}")));
        Assert.True(summary.Epochs.Max(e => e.ValAccuracy) > 0.4, $"5 classes: chance is 20%, got {summary.Epochs.Max(e => e.ValAccuracy):P1}");
        // The kept parameters are the first epoch that reached the best validation accuracy.
        Assert.Equal(summary.Epochs.First(e => e.ValAccuracy == summary.Epochs.Max(m => m.ValAccuracy)).Epoch, summary.Kept!.Epoch);
        Assert.Equal(12, File.ReadAllLines(Path.Combine(_folder, "fe", TrainingRun.MetricsFile)).Length);
        Assert.True(File.Exists(Path.Combine(_folder, "fe", "training_model.onnx")));
    }

    [Theory]
    [InlineData("strategy: feature-extraction")]
    [InlineData("strategy: fine-tune\nfine_tune_last: 1")]
    [InlineData("strategy: fine-tune\nfine_tune_last: 1\nhead: { hidden: [16], dropout: 0.5 }")]
    [InlineData("strategy: fine-tune\nfine_tune_last: 1\nhead: { hidden: [16], dropout: 0.5 }", 3)] // batches of 50 in 3 chunks at once
    [InlineData("strategy: fine-tune\nfine_tune_last: 1\nhead: { hidden: [16], dropout: 0.5 }", 0, true)] // CUDA's device-resident loop
    public void Resume_AfterStopMidEpoch_EqualsUninterruptedRun(string strategy, int chunks = 0, bool deviceResident = false)
    {
        var setup = Small(Recipe(strategy));
        var uninterrupted = Train(setup, "whole", chunks: chunks, deviceResident: deviceResident);
        var stopped = Train(setup, "resumed", stopAfterFirstStep: true, chunks: chunks, deviceResident: deviceResident);
        Assert.False(stopped.Completed);
        var resumed = Train(setup, "resumed", resume: true, chunks: chunks, deviceResident: deviceResident);
        Assert.True(resumed.Completed);
        foreach (var (name, value) in uninterrupted.Parameters)
            Assert.True(value.Data.Span.SequenceEqual(resumed.Parameters[name].Data.Span), $"'{name}' differs after resume");
        AssertSameMetricsLog("whole", "resumed");
    }

    [Theory]
    [InlineData(5, 0.0)]
    [InlineData(7, 0.0)]
    [InlineData(7, 0.5)]
    public void Resume_AroundStageBoundary_EqualsUninterruptedRun(int stopAfterSteps, double dropout)
    {
        // 250 training images in batches of 50: 5 steps per epoch; step 5 ends the first stage, step 7 is inside the second.
        var setup = Small(Recipe("strategy: fine-tune\nstages:\n  - { unfreeze_last: 0, epochs: 1 }\n  - { unfreeze_last: 1, epochs: 2 }", "epochs=null",
            $"head.dropout={dropout.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        var uninterrupted = Train(setup, "whole");
        Assert.False(Train(setup, "resumed", stopAfterSteps: stopAfterSteps).Completed);
        var resumed = Train(setup, "resumed", resume: true);
        Assert.True(resumed.Completed);
        foreach (var (name, value) in uninterrupted.Parameters)
            Assert.True(value.Data.Span.SequenceEqual(resumed.Parameters[name].Data.Span), $"'{name}' differs after resume");
        Assert.Equal(uninterrupted.Kept!.Epoch, resumed.Kept!.Epoch); // the best epoch may lie before the resume: read back from best/
        AssertSameMetricsLog("whole", "resumed");
    }

    /// <summary>The two runs' metrics.jsonl agree on every figure but the timings, the epoch a resume cut into included.</summary>
    private void AssertSameMetricsLog(string expectedRun, string actualRun)
    {
        IReadOnlyList<EpochMetrics> Untimed(string run) =>
            [.. MetricsLog.Read(Path.Combine(_folder, run, TrainingRun.MetricsFile)).Select(m => m with { ImagesPerSecond = 0, Seconds = 0 })];
        Assert.Equal(Untimed(expectedRun), Untimed(actualRun));
    }

    public static TheoryData<string, string> Misfits => new()
    {
        { "epoch", "epoch 1000001 is not within stage 1's epochs 1 to 2" },
        { "stage", "stage 100 is past the recipe's 1 stage(s)" },
        { "batch", "batch 100001 is past the 3 batches of an epoch" },
        { "rng_state", "rng_state holds [], not the loop position's 6 counts" },
        { "step", "step 1000 is more than stage 1 takes by epoch 1 (3 per epoch)" },
    };

    /// <summary>A checkpoint whose manifest is signed (saved by the tool) but does not fit the recipe is refused, naming the field.</summary>
    [Theory]
    [MemberData(nameof(Misfits))]
    public void Resume_CheckpointOutsideTheRecipe_RefusedNamingTheManifest(string field, string message)
    {
        var setup = Small(Recipe("strategy: feature-extraction"));
        Assert.False(Train(setup, "run", stopAfterFirstStep: true).Completed);
        string run = Path.Combine(_folder, "run");
        var checkpoint = Checkpoint.Load(run);
        var position = checkpoint.RngState.ToArray();
        (field switch
        {
            "epoch" => checkpoint with { Epoch = 1_000_000 },
            "stage" => checkpoint with { RngState = [99, .. position[1..]] },
            "batch" => checkpoint with { RngState = [position[0], 100_000, .. position[2..]] },
            "rng_state" => checkpoint with { RngState = [] },
            _ => checkpoint with { Step = 1000 },
        }).Save(run);

        var error = Assert.Throws<CheckpointFormatException>(() => Train(setup, "run", resume: true));

        Assert.Equal($"{Checkpoint.ManifestPath(run)}: {message}; the checkpoint does not fit the recipe, start the run afresh", error.Message);
    }

    [Fact]
    public void FineTune_HeadlessBatch1ExportWithFoldedBatchNorm_EveryLayerLearns()
    {
        // torch.onnx.export's defaults on a model with no classifier and the batch fixed at 1: each BatchNorm folded
        // into its Conv's weights and bias, a Reshape to [1, -1] at the end. cut: head keeps it whole.
        string backbone = GeneratedFixtures.ModelPath(GeneratedFixtures.FeaturesBatch1);
        var setup = Small(Recipe("strategy: fine-tune", $"backbone.path={backbone}", "epochs=3"));
        var summary = Train(setup, "folded");

        Assert.True(summary.Epochs[^1].TrainLoss < summary.Epochs[0].TrainLoss, "training loss must fall: " + string.Join(", ", summary.Epochs.Select(e => $"{e.TrainLoss:F3}")));
        var initial = setup.InitialParameters();
        var convolutions = setup.Assembly.Model.Graph.Nodes.Where(n => n.OpType == "Conv").SelectMany(n => new[] { n.Input(1)!.Name, n.Input(2)!.Name }).ToList();
        Assert.Equal(40, convolutions.Count);
        foreach (var name in convolutions)
            Assert.False(initial[name].Data.Span.SequenceEqual(summary.Parameters[name].Data.Span), $"'{name}' did not train");
    }

    [Theory]
    [InlineData("strategy: fine-tune\nfine_tune_last: 1\nhead: { hidden: [16], dropout: 0.5 }")]
    [InlineData("strategy: fine-tune\nbatch_norm: train")]
    public void DeviceResident_BitIdenticalToHostBuffers(string strategy)
    {
        // The loop CUDA runs (parameters, gradients and optimizer state in ONNX Runtime-allocated tensors, bound from one
        // step's outputs to the next step's inputs) against the CPU's loop over host arrays, both in one chunk.
        var setup = Small(Recipe(strategy));
        var host = Train(setup, "host", chunks: 1);
        var resident = Train(setup, "resident", deviceResident: true);
        foreach (var (name, value) in host.Parameters)
            Assert.True(value.Data.Span.SequenceEqual(resident.Parameters[name].Data.Span), $"'{name}' differs in the device-resident loop");
        Assert.Equal(host.Epochs.Select(e => (e.TrainLoss, e.ValLoss, e.ValAccuracy)), resident.Epochs.Select(e => (e.TrainLoss, e.ValLoss, e.ValAccuracy)));
        var initial = setup.InitialParameters();
        Assert.Contains(host.Parameters, kv => !kv.Value.Data.Span.SequenceEqual(initial[kv.Key].Data.Span));
        // Where each graph's nodes ran, from a profile of its first run: what a CUDA run logs to show CPU fallbacks.
        var log = File.ReadAllText(Path.Combine(_folder, "resident", TrainingRun.LogFile));
        foreach (var graph in new[] { "training", "optimizer", "eval" })
            Assert.Matches($@"{graph} graph: all [1-9]\d* nodes on CPUExecutionProvider", log);
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), "onnx-trainer-placement-*"));
    }

    [Fact]
    public void BatchNormTraining_EachEpochValidatedWithItsRunningStatistics()
    {
        // One eval graph for the whole stage reads the running statistics as inputs: the kept epoch's validation
        // accuracy is what its exported model (statistics as constants) scores on the same images.
        var setup = Small(Recipe("strategy: fine-tune\nbatch_norm: train", "epochs=3"));
        var summary = Train(setup, "bn");
        var initial = setup.InitialParameters();
        Assert.Contains(initial, kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal) && !kv.Value.Data.Span.SequenceEqual(summary.Parameters[kv.Key].Data.Span));

        string path = Path.Combine(_folder, "bn.onnx");
        ClassifierExporter.Save(setup.Assembly.Model, summary.Parameters, new ClassifierExport(summary.Classes, setup.Preprocessing, "", "{}"), path);
        using var session = new InferenceSession(path);
        int correct = 0, total = 0;
        foreach (var batch in new DataLoader(setup.Data.Validation!, setup.Preprocessing, new DataLoaderOptions { BatchSize = 50 }).ReadEpoch(0))
        {
            using var input = OrtValue.CreateTensorValueFromMemory(batch.Images, batch.Shape);
            using var outputs = session.Run(new RunOptions(), [ClassifierContract.Input], [input], [ClassifierContract.Logits]);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            int classes = logits.Length / batch.Count;
            for (int i = 0; i < batch.Count; i++)
            {
                var row = logits.Slice(i * classes, classes);
                correct += row.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(row)) == batch.Labels[i] ? 1 : 0;
            }
            total += batch.Count;
        }

        Assert.InRange(Math.Abs((double)correct / total - summary.Kept!.ValAccuracy), 0, 1.0 / total + 1e-12); // a float rounding may flip one image
    }

    [Fact]
    public void CachedPrefix_SameParametersAsUncached()
    {
        var cached = Train(Small(Recipe("strategy: feature-extraction")), "cached");
        var uncached = Train(Small(Recipe("strategy: feature-extraction", "data.cache_mb=0")), "uncached");
        foreach (var (name, value) in cached.Parameters)
            Assert.True(value.Data.Span.SequenceEqual(uncached.Parameters[name].Data.Span), $"'{name}' differs with the feature cache");
    }

    [Fact]
    public void HeadDropout_ChangesTraining_CachedEqualsUncached()
    {
        const string dropout = "strategy: feature-extraction\nhead: { hidden: [16], dropout: 0.5 }";
        var cached = Train(Small(Recipe(dropout)), "cached");
        var uncached = Train(Small(Recipe(dropout, "data.cache_mb=0")), "uncached");
        var without = Train(Small(Recipe(dropout, "head.dropout=0")), "without");
        foreach (var (name, value) in cached.Parameters)
            Assert.True(value.Data.Span.SequenceEqual(uncached.Parameters[name].Data.Span), $"'{name}' differs with the feature cache");
        Assert.False(cached.Parameters["head.out.weight"].Data.Span.SequenceEqual(without.Parameters["head.out.weight"].Data.Span));
        // Dropout regularizes: the training loss (measured with dropped units) is higher than without dropout.
        Assert.True(cached.Epochs[^1].TrainLoss > without.Epochs[^1].TrainLoss, $"{cached.Epochs[^1].TrainLoss} vs {without.Epochs[^1].TrainLoss}");
    }

    [Fact]
    public void DamageFoundWhileDecoding_IsLoggedAndNamesTheEmptiedClass()
    {
        // PNGs cut in half keep a readable header, so the scan accepts them and only decoding finds the damage.
        string data = Path.Combine(_folder, "images");
        foreach (var (name, truncate) in new[] { ("Sandal", false), ("Bag", true) })
            foreach (var split in new[] { "train", "val" })
            {
                Directory.CreateDirectory(Path.Combine(data, split, name));
                foreach (var file in Directory.GetFiles(RepositoryPaths.Of($"data/fashion-target/{split}/{name}")).Order(StringComparer.Ordinal).Take(8))
                {
                    string copy = Path.Combine(data, split, name, Path.GetFileName(file));
                    File.Copy(file, copy);
                    if (truncate && split == "train") File.WriteAllBytes(copy, File.ReadAllBytes(copy)[..(int)(new FileInfo(copy).Length / 2)]);
                }
            }
        string recipe = Path.Combine(_folder, "damaged.yaml");
        File.WriteAllText(recipe, $$"""
            name: damaged
            backbone: { path: {{RepositoryPaths.Of("models/onnx/resnet-fmnist-source.onnx")}} }
            strategy: feature-extraction
            data:
              train: { kind: image-folder, path: {{data}}/train }
              val: { kind: image-folder, path: {{data}}/val }
            epochs: 2
            batch_size: 4
            """);
        var summary = Train(RunSetup.Prepare(RecipeLoader.Load(recipe, [])), "damaged");

        Assert.True(summary.Completed);
        var log = File.ReadAllLines(Path.Combine(_folder, "damaged", TrainingRun.LogFile));
        Assert.Equal(8, log.Count(line => line.StartsWith("skipped ", StringComparison.Ordinal) && line.Contains("truncated", StringComparison.Ordinal)));
        Assert.Contains("8 unusable image(s) skipped while decoding in epoch 1, listed in run.log", log);
        Assert.Contains(log, line => line.StartsWith("class 'Bag' has no usable training image left", StringComparison.Ordinal));
        Assert.DoesNotContain(log, line => line.Contains("in epoch 2", StringComparison.Ordinal)); // reported once
    }

    [Fact]
    public void AdaBn_FirstBatchNorm_RunningMeanIsAverageOfBatchMeansOfItsInput()
    {
        var setup = Small(Recipe("strategy: feature-extraction\nbatch_norm: adabn", "epochs=1"));
        var summary = Train(setup, "adabn");

        // bn1 reads conv1's output, which AdaBN cannot change: its batch means are computable independently.
        var forward = setup.ForwardWith(setup.InitialParameters());
        var bn = forward.Graph.Nodes.First(n => n.OpType == "BatchNormalization");
        forward.Graph.Outputs.Clear();
        forward.Graph.Outputs.Add(bn.Input(0)!);
        using var runner = new OrtRunner(forward);
        var loader = new DataLoader(setup.Data.Train, setup.Preprocessing, new DataLoaderOptions { BatchSize = setup.Recipe.BatchSize });
        int channels = (int)bn.Input(1)!.Initializer!.ElementCount();
        var sum = new double[channels];
        int batches = 0;
        foreach (var batch in loader.ReadEpoch(0))
        {
            var (data, shape) = runner.Run(new Dictionary<string, (DataType, long[], double[])>
            {
                ["input"] = (DataType.Float, batch.Shape, Array.ConvertAll(batch.Images, v => (double)v)),
            })[0];
            long plane = shape[2] * shape[3];
            for (int c = 0; c < channels; c++)
            {
                double s = 0;
                for (int n = 0; n < shape[0]; n++)
                    for (long i = 0; i < plane; i++) s += data[(n * channels + c) * plane + i];
                sum[c] += s / (shape[0] * plane);
            }
            batches++;
        }
        var adapted = summary.Parameters[bn.Input(3)!.Name].ToFloats();
        Assert.False(adapted.SequenceEqual(bn.Input(3)!.Initializer!.ToFloats()), "AdaBN must change the running mean");
        for (int c = 0; c < channels; c++)
            Assert.Equal(sum[c] / batches, adapted[c], 1e-3 * Math.Max(1, Math.Abs(sum[c] / batches)));
    }

    [Fact]
    public void TrainCommand_FeatureExtraction_ExportedBackboneEqualsInputBackbone()
    {
        Recipe("strategy: feature-extraction", "epochs=1");
        string run = Path.Combine(_folder, "cli");
        var (code, _, error) = ConsoleCapture.Run("train", Path.Combine(_folder, "recipe.yaml"), "--set", "data.val_split=0.9", "--out", run);
        Assert.True(code == 0, error);

        var backbone = ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small"));
        var exported = ModelReader.Load(Path.Combine(run, "model.onnx"));
        Assert.Equal(["logits", "probabilities"], exported.Graph.Outputs.Select(o => o.Name));
        int compared = 0;
        foreach (var value in Parameters.Of(backbone.Graph).Where(p => !p.Name.StartsWith("fc.", StringComparison.Ordinal)))
        {
            Assert.True(value.Initializer!.Data.Span.SequenceEqual(exported.Graph[value.Name].Initializer!.Data.Span), $"'{value.Name}' changed");
            compared++;
        }
        Assert.True(compared > 20);
        Assert.Equal("[\"5\",\"6\",\"7\",\"8\",\"9\"]", exported.GetMetadata("labels"));
    }
}
