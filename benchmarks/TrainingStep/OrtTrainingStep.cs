using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// One benchmark case on ONNX Runtime: the training graph of a model with some parameters trainable, a
/// session, and inputs and outputs bound once. Owns native memory (session, binding, OrtValues): dispose it.
/// </summary>
internal sealed class OrtTrainingStep : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly List<OrtValue> _values = [];
    private readonly float[] _loss;

    public Model TrainingModel { get; }
    public TimeSpan BuildTime { get; }
    public TimeSpan SerializeTime { get; }
    public TimeSpan SessionTime { get; }
    public string? ProfilePrefix { get; }

    public OrtTrainingStep(Model forward, IReadOnlyList<string> trainable, int batch, int threads, string? profilePrefix = null, string? optimizedModelPath = null)
    {
        var clock = Stopwatch.StartNew();
        TrainingModel = TrainingGraph.BuildTraining(forward, trainable, new LossOptions());
        BuildTime = clock.Elapsed;

        clock.Restart();
        var bytes = ModelWriter.ToBytes(TrainingModel);
        SerializeTime = clock.Elapsed;

        // The settings of the benchmark: all graph optimizations, 2 intra-op threads, sequential. No spin-waiting:
        // ORT and PyTorch steps alternate, and one side's idle threads spinning after its step slowed the other's next
        // step (ResNet-18 full: ORT steps jumped between ~740 and ~870 ms within a run; PyTorch runs with
        // OMP_WAIT_POLICY=PASSIVE for the same reason).
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (optimizedModelPath is not null) options.OptimizedModelFilePath = optimizedModelPath;
        if (profilePrefix is not null)
        {
            // The prefix first: the EnableProfiling setter hands the current prefix to ORT.
            options.ProfileOutputPathPrefix = profilePrefix;
            options.EnableProfiling = true;
            ProfilePrefix = profilePrefix;
        }
        clock.Restart();
        _session = new InferenceSession(bytes, options);
        SessionTime = clock.Elapsed;

        _binding = _session.CreateIoBinding();
        var graph = TrainingModel.Graph;
        var random = new Random(1234);
        foreach (var input in graph.Inputs)
        {
            OrtValue value;
            if (input.Name == TrainingGraph.InputName)
                value = OrtValue.CreateTensorValueFromMemory(RandomNormal(random, batch * 3L * 224 * 224), [batch, 3, 224, 224]);
            else if (input.Name == TrainingGraph.LabelsName)
            {
                int classes = (int)graph.Outputs.First(o => o.Name == TrainingGraph.LogitsName).Type!.Shape![1].Value!.Value;
                value = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, batch).Select(_ => (long)random.Next(classes)).ToArray(), [batch]);
            }
            else
            {
                // A trainable parameter: fed as an input with the forward model's own values.
                var data = forward.Graph[input.Name].Initializer ?? throw new InvalidOperationException($"'{input.Name}' has no data in the forward model");
                value = OrtValue.CreateTensorValueFromMemory(data.ToFloats(), data.Dims);
            }
            _values.Add(value);
            _binding.BindInput(input.Name, value);
        }

        // Preallocated outputs: ORT writes into them on every run, so the timed loop allocates nothing.
        _loss = new float[1];
        foreach (var output in graph.Outputs)
        {
            OrtValue value;
            if (output.Name == TrainingGraph.LossName)
                value = OrtValue.CreateTensorValueFromMemory(_loss, output.Type?.KnownDims ?? []);
            else
            {
                var dims = output.Type?.Shape?.Select(d => d.Value ?? batch).ToArray()
                    ?? throw new InvalidOperationException($"output '{output.Name}' has no shape");
                value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, dims);
            }
            _values.Add(value);
            _binding.BindOutput(output.Name, value);
        }
    }

    public int NodeCount => TrainingModel.Graph.Nodes.Count;
    public int GradientCount => TrainingModel.Graph.Outputs.Count - 2;

    /// <summary>Loss of the last step (a sanity value: about ln(classes) for random weights).</summary>
    public float Loss => _loss[0];

    public void Step() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Stops profiling and returns the profile file (only for a session created with a profile prefix).</summary>
    public string EndProfiling() => _session.EndProfiling();

    public void Dispose()
    {
        _binding.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        foreach (var v in _values) v.Dispose();
    }

    private static float[] RandomNormal(Random random, long count)
    {
        var data = new float[count];
        for (long i = 0; i < count; i++)
            data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return data;
    }
}
