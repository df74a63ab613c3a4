using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Training;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// One benchmark case on ONNX Runtime: a model with some parameters trainable, run on a random batch as the trainer
/// runs a step without cached features: the frozen prefix forward only (<see cref="PrefixRunner"/>, where the frozen
/// layers can be split off), then the training graph of the rest (<see cref="DataParallelStep"/>: the batch in
/// chunks at once where <see cref="ChunkPolicy"/> chooses them). Owns native memory (sessions, OrtValues): dispose it.
/// </summary>
internal sealed class OrtTrainingStep : IDisposable
{
    private readonly PrefixRunner? _prefix;
    private readonly DataParallelStep _step;
    private readonly List<(string Name, OrtValue Value)> _parameters = [];
    private readonly float[] _images;
    private readonly long[] _shape;
    private readonly long[] _labels;

    public TimeSpan BuildTime { get; }
    public TimeSpan SerializeTime { get; }
    public TimeSpan SessionTime { get; }

    /// <param name="chunks">Chunks of the batch (0: the trainer's choice, <see cref="ChunkPolicy"/>).</param>
    /// <param name="profilePrefix">Profiles every chunk's session to files starting with this.</param>
    /// <param name="optimizedModelPath">Where ORT writes the training graph as it optimized it.</param>
    /// <param name="trainingModelPath">Where to write the training graph as built.</param>
    public OrtTrainingStep(Model forward, IReadOnlyList<string> trainable, int batch, int threads, int chunks, string? profilePrefix = null,
        string? optimizedModelPath = null, string? trainingModelPath = null)
    {
        var clock = Stopwatch.StartNew();
        var split = FrozenPrefix.Split(forward, trainable);
        // Not kept: as in the trainer, the graph in managed memory is garbage once its sessions exist.
        var trainingModel = TrainingGraph.BuildTraining(split?.Suffix ?? forward, trainable, new LossOptions());
        BuildTime = clock.Elapsed;
        NodeCount = trainingModel.Graph.Nodes.Count;
        if (trainingModelPath is not null) ModelWriter.Save(trainingModel, trainingModelPath);

        clock.Restart();
        var bytes = ModelWriter.ToBytes(trainingModel);
        SerializeTime = clock.Elapsed;

        // The settings of the benchmark: all graph optimizations, 2 threads, sequential. No spin-waiting
        // (ExecutionOptions): ORT and PyTorch steps alternate, and one side's idle threads spinning after its step
        // slowed the other's next step (ResNet-18 full: ORT steps jumped between ~740 and ~870 ms within a run;
        // PyTorch runs with OMP_WAIT_POLICY=PASSIVE for the same reason).
        var execution = new ExecutionOptions(Threads: threads, Chunks: chunks);
        clock.Restart();
        _prefix = split is null ? null : new PrefixRunner(split.Prefix, execution);
        PositionsPerImage = ChunkPolicy.PositionsPerImage(forward.Graph, trainable);
        _step = new DataParallelStep(bytes, execution, ChunkPolicy.Chunks(execution, batchStatistics: false, PositionsPerImage, batch),
            [.. trainable.Select(name => (TrainingContract.Gradient(name), forward.Graph[name].Initializer!.Dims))],
            configure: (options, k) =>
            {
                if (optimizedModelPath is not null && k == 0) options.OptimizedModelFilePath = optimizedModelPath;
                if (profilePrefix is null) return;
                // The prefix first: the EnableProfiling setter hands the current prefix to ORT.
                options.ProfileOutputPathPrefix = $"{profilePrefix}-chunk{k}";
                options.EnableProfiling = true;
            });
        SessionTime = clock.Elapsed;

        var random = new Random(1234);
        _shape = [batch, 3, 224, 224];
        _images = RandomNormal(random, batch * 3L * 224 * 224);
        var logits = trainingModel.Graph.Outputs.First(o => o.Name == ClassifierContract.Logits);
        int classes = (int)logits.Type!.Shape![1].Value!.Value;
        _labels = [.. Enumerable.Range(0, batch).Select(_ => (long)random.Next(classes))];
        foreach (var name in trainable)
        {
            // A trainable parameter: fed as an input with the forward model's own values.
            var data = forward.Graph[name].Initializer ?? throw new InvalidOperationException($"'{name}' has no data in the forward model");
            _parameters.Add((name, OrtValue.CreateTensorValueFromMemory(data.ToFloats(), data.Dims)));
        }
    }

    public int NodeCount { get; }
    public int Chunks => _step.Chunks;
    public double PositionsPerImage { get; }

    /// <summary>Loss of the last step (a sanity value: about ln(classes) for random weights).</summary>
    public float Loss { get; private set; }

    public void Step()
    {
        var (input, shape) = _prefix is null ? (_images, _shape) : (_prefix.Run(_images, _shape), [_shape[0], .. _prefix.FeatureShape]);
        Loss = _step.Run(input, shape, _labels, _parameters).Loss;
    }

    /// <summary>The ONNX Runtime arenas of every session of the step, summed: the frozen prefix's and each chunk's.</summary>
    public ArenaStatistics Arenas() =>
        _step.Sessions.Append(_prefix?.Session).OfType<InferenceSession>().Aggregate(default(ArenaStatistics), (sum, s) => sum + ArenaStatistics.Of(s));

    /// <summary>Stops profiling and returns each chunk's profile file (only for a step created with a profile prefix).</summary>
    public IReadOnlyList<string> EndProfiling() => _step.EndProfiling();

    public void Dispose()
    {
        _prefix?.Dispose();
        _step.Dispose();
        foreach (var (_, value) in _parameters) value.Dispose();
    }

    private static float[] RandomNormal(Random random, long count)
    {
        var data = new float[count];
        for (long i = 0; i < count; i++)
            data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return data;
    }
}
