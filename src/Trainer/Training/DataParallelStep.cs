using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;

namespace OnnxTrainer.Training;

/// <summary>
/// Runs a training graph (loss, logits and parameter gradients) on a batch split along the batch axis into chunks,
/// one ONNX Runtime session per chunk with an equal share of the threads, all chunks at once; then combines them
/// into the whole batch's loss, logits and gradients. Each chunk's loss is its own mean (sum of per-image losses over
/// the sum of their class weights, see <see cref="Autodiff.CrossEntropyLoss"/>), so the batch's loss and every
/// gradient are the chunks' weighted by their share of that normalizer: the unsplit step up to float rounding.
/// <para>
/// Why: ONNX Runtime's CPU provider runs its copying operators (Transpose, Pad, Slice, Concat), MaxPool's indices and
/// ScatterElements on one thread and pays a parallel-for hand-off on every node; a backward graph has ~1000 nodes,
/// many of them small. With one thread per chunk none of that leaves a core idle. On the 2-core development machine
/// (BENCHMARKS.md, "Batch chunks") two chunks took a full fine-tuning step at 32 px, batch 64, from 52 to 39 ms, and
/// at 224 px, batch 16, MobileNetV2's from 438-449 to 402-420 and ResNet-18's from 696-741 to 642-644.
/// </para>
/// Only valid where images do not interact within a batch: BatchNorm with batch statistics needs one chunk
/// (<see cref="ChunkPolicy"/> decides how many). With <see cref="DeviceTensors"/> (one chunk) the gradients are tensors
/// in the device's memory, written by each run and read by the optimizer there; only the loss and logits come back to
/// the host. Owns native sessions and memory: dispose it.
/// </summary>
public sealed class DataParallelStep : IDisposable
{
    private readonly Worker[] _workers;
    private readonly IReadOnlyList<float>? _classWeights;
    private readonly IReadOnlyList<string> _extraOutputs;
    private readonly int _threads;
    private bool _hasRun;

    /// <param name="model">The serialized training graph: inputs <see cref="ClassifierContract.Input"/>, its labels,
    /// the parameters and further per-image inputs; outputs loss, logits, gradients and <paramref name="extraOutputs"/>.</param>
    /// <param name="gradients">Name and shape of each gradient output.</param>
    /// <param name="classWeights">The loss's per-class weights (null: every image weighs 1).</param>
    /// <param name="extraOutputs">Further outputs returned with each step; only with one chunk.</param>
    /// <param name="configure">Adjusts each chunk's session options (given its index), e.g. to profile.</param>
    /// <param name="device">Where the gradients live (one chunk); null: host arrays.</param>
    public DataParallelStep(byte[] model, ExecutionOptions execution, int chunks, IReadOnlyList<(string Name, long[] Dims)> gradients,
        IReadOnlyList<float>? classWeights = null, IReadOnlyList<string>? extraOutputs = null, Action<SessionOptions, int>? configure = null,
        DeviceTensors? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        if (device is not null && chunks > 1)
            throw new ArgumentException("device-resident gradients are one chunk's: the chunks' sum is taken on the host", nameof(chunks));
        _extraOutputs = extraOutputs ?? [];
        if (chunks > 1 && _extraOutputs.Count > 0)
            throw new ArgumentException("further outputs (batch statistics) describe the whole batch: they need one chunk", nameof(extraOutputs));
        _classWeights = classWeights;
        _threads = execution.ResolvedThreads;
        int threadsPerChunk = Math.Max(1, _threads / chunks);
        _workers = new Worker[chunks];
        for (int k = 0; k < chunks; k++)
        {
            using var options = execution.CreateSessionOptions(threadsPerChunk);
            configure?.Invoke(options, k);
            _workers[k] = new Worker(new InferenceSession(model, options), gradients, device);
        }
    }

    public int Chunks => _workers.Length;

    /// <summary>The chunks' sessions, owned by this step (for measurements such as their arenas' sizes).</summary>
    public IEnumerable<InferenceSession> Sessions => _workers.Select(w => w.Session);

    /// <summary>The combined gradients, in constructor order; overwritten by each <see cref="Run"/>.</summary>
    public IReadOnlyList<(string Name, OrtValue Value)> Gradients => _workers[0].Gradients;

    /// <summary>The gradients as host arrays (a copy from the device where they live there).</summary>
    public IReadOnlyList<(string Name, float[] Data)> HostGradients() => _workers[0].HostGradients();

    /// <summary>One forward and backward pass on a batch; the gradients land in <see cref="Gradients"/>.</summary>
    /// <param name="parameters">Current values of the trainable parameters (read only).</param>
    /// <param name="further">Further per-image inputs (dropout masks), batch-major, split with the images.</param>
    public StepResult Run(float[] images, long[] shape, long[] labels, IReadOnlyList<(string Name, OrtValue Value)> parameters,
        IReadOnlyList<(string Name, float[] Values, long[] Shape)>? further = null)
    {
        int count = labels.Length;
        if (shape[0] != count) throw new ArgumentException($"{shape[0]} images but {count} labels");
        // The first run grows the sessions' arenas to their working size: free what building the graphs left behind first.
        if (!_hasRun) ManagedGarbage.Release();
        _hasRun = true;
        int chunks = Math.Clamp(count, 1, _workers.Length);
        if (chunks == 1) return _workers[0].Run(images, shape, labels, parameters, further, 0, count, _extraOutputs);

        var starts = new int[chunks + 1];
        for (int k = 0; k < chunks; k++) starts[k + 1] = starts[k] + count / chunks + (k < count % chunks ? 1 : 0);
        var results = new StepResult[chunks];
        try
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks },
                k => results[k] = _workers[k].Run(images, shape, labels, parameters, further, starts[k], starts[k + 1] - starts[k], []));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // A chunk's failure (e.g. ONNX Runtime's) is reported as the unsplit step would report it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }

        var shares = Shares(labels, starts);
        double loss = 0;
        for (int k = 0; k < chunks; k++) loss += shares[k] * results[k].Loss;
        int classes = results[0].Classes;
        var logits = new float[count * classes];
        for (int k = 0; k < chunks; k++) results[k].Logits.CopyTo(logits, starts[k] * classes);
        Combine(shares);
        return new StepResult((float)loss, logits, count, classes);
    }

    /// <summary>Each chunk's share of the batch's loss normalizer: its sum of class weights over the batch's.</summary>
    private float[] Shares(long[] labels, int[] starts)
    {
        var sums = new double[starts.Length - 1];
        for (int k = 0; k < sums.Length; k++)
            for (int i = starts[k]; i < starts[k + 1]; i++) sums[k] += _classWeights?[(int)labels[i]] ?? 1;
        double total = sums.Sum();
        return [.. sums.Select(s => (float)(s / total))];
    }

    /// <summary>Gradients of chunk 0 := the shares-weighted sum over the chunks, in blocks spread over the threads.</summary>
    private void Combine(float[] shares)
    {
        const int Block = 1 << 16;
        var blocks = new List<(int Tensor, int Start, int Length)>();
        var host = _workers.Select(w => w.HostGradients()).ToArray();
        for (int t = 0; t < host[0].Count; t++)
            for (int start = 0; start < host[0][t].Data.Length; start += Block)
                blocks.Add((t, start, Math.Min(Block, host[0][t].Data.Length - start)));
        Parallel.For(0, blocks.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, b =>
        {
            var (t, start, length) = blocks[b];
            var sum = host[0][t].Data.AsSpan(start, length);
            TensorPrimitives.Multiply(sum, shares[0], sum);
            for (int k = 1; k < shares.Length; k++)
                TensorPrimitives.MultiplyAdd(host[k][t].Data.AsSpan(start, length), shares[k], sum, sum);
        });
    }

    /// <summary>Ends profiling (sessions configured to profile) and returns each chunk's profile file.</summary>
    public IReadOnlyList<string> EndProfiling() => [.. _workers.Select(w => w.Session.EndProfiling())];

    public void Dispose()
    {
        foreach (var worker in _workers) worker.Dispose();
    }

    /// <summary>One chunk's session, IO binding and gradient buffers (bound once, written by every run).</summary>
    private sealed class Worker : IDisposable
    {
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _runOptions = new();
        private readonly float[][]? _hostGradients;
        private readonly DeviceTensors? _device;

        public Worker(InferenceSession session, IReadOnlyList<(string Name, long[] Dims)> gradients, DeviceTensors? device)
        {
            Session = session;
            _binding = session.CreateIoBinding();
            _device = device;
            var zeros = gradients.Select(g => new float[Ir.Tensor.ElementCount(g.Dims)]).ToArray();
            if (device is null) _hostGradients = zeros;
            Gradients = [.. gradients.Select((g, i) =>
                (g.Name, device is null ? OrtValue.CreateTensorValueFromMemory(zeros[i], g.Dims) : device.Upload(zeros[i], g.Dims)))];
        }

        public InferenceSession Session { get; }

        public IReadOnlyList<(string Name, OrtValue Value)> Gradients { get; }

        /// <summary>The gradient buffers themselves where they are host arrays, else copies from the device.</summary>
        public IReadOnlyList<(string Name, float[] Data)> HostGradients() =>
            [.. Gradients.Select((g, i) => (g.Name, _hostGradients?[i] ?? _device!.Download(g.Value)))];

        /// <summary>Runs images [start, start + count) of the batch.</summary>
        public StepResult Run(float[] images, long[] shape, long[] labels, IReadOnlyList<(string Name, OrtValue Value)> parameters,
            IReadOnlyList<(string Name, float[] Values, long[] Shape)>? further, int start, int count, IReadOnlyList<string> extraOutputs)
        {
            var inputs = new List<OrtValue>
            {
                Rows(images, shape, start, count),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, labels.AsMemory(start, count), [count]),
            };
            try
            {
                _binding.BindInput(ClassifierContract.Input, inputs[0]);
                _binding.BindInput(TrainingContract.Labels, inputs[1]);
                foreach (var (name, values, valueShape) in further ?? [])
                {
                    inputs.Add(Rows(values, valueShape, start, count));
                    _binding.BindInput(name, inputs[^1]);
                }
                foreach (var (name, value) in parameters) _binding.BindInput(name, value);
                // Logits change shape with the batch: ORT would reuse a device output bound once, so outputs are
                // rebound each run. They come back in binding order: loss and logits first.
                _binding.ClearBoundOutputs();
                _binding.BindOutputToDevice(TrainingContract.Loss, OrtMemoryInfo.DefaultInstance);
                _binding.BindOutputToDevice(ClassifierContract.Logits, OrtMemoryInfo.DefaultInstance);
                foreach (var name in extraOutputs) _binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
                foreach (var (name, value) in Gradients) _binding.BindOutput(name, value);
                Session.RunWithBinding(_runOptions, _binding);
            }
            finally
            {
                foreach (var input in inputs) input.Dispose();
            }
            using var outputs = _binding.GetOutputValues();
            return StepResult.Read(outputs, count) with
            {
                Extras = [.. Enumerable.Range(0, extraOutputs.Count).Select(i => outputs[2 + i].GetTensorDataAsSpan<float>().ToArray())],
            };
        }

        /// <summary>Rows [start, start + count) of a batch-major array, without a copy.</summary>
        private static OrtValue Rows(float[] values, long[] shape, int start, int count)
        {
            int row = (int)(values.Length / shape[0]);
            long[] rows = [count, .. shape.Skip(1)];
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values.AsMemory(start * row, count * row), rows);
        }

        public void Dispose()
        {
            _binding.Dispose();
            Session.Dispose();
            _runOptions.Dispose();
            foreach (var (_, value) in Gradients) value.Dispose();
        }
    }
}
