using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Training;

/// <summary>
/// Runs the training, eval and optimizer graphs of one set of trainable parameters with ONNX Runtime.
/// Parameters, gradients and optimizer state live in buffers bound once (IO binding); per step only the
/// batch and two scalars change. On the CPU the buffers are host arrays and the training graph runs in batch chunks at
/// once (<see cref="DataParallelStep"/>); on a device (<see cref="ExecutionOptions.KeepsTensorsOnDevice"/>) they are
/// tensors in its memory for the whole run: each step copies the batch there once and the loss and logits back, and
/// parameters go to the host only for checkpoints and export. Owns native sessions and memory: dispose it.
/// </summary>
public sealed class TrainingSession : IDisposable
{

    private readonly DeviceTensors? _device;
    private readonly DataParallelStep _training;
    private readonly InferenceSession _eval;
    private readonly ExecutionOptions _execution;
    private readonly InferenceSession _optimizer;
    private readonly OrtIoBinding _optimizerBinding;
    private readonly RunOptions _runOptions = new();
    private readonly List<ParameterBuffers> _parameters = [];
    private readonly List<ParameterBuffers> _states = [];
    private readonly PlacementProbe? _trainingPlacement;
    private readonly PlacementProbe? _optimizerPlacement;
    private readonly PlacementProbe? _evalPlacement;
    private readonly Action<string>? _placementReport;
    private readonly float[] _learningRate = [0f];
    private readonly long[] _step = [0L];
    private readonly OrtValue _learningRateValue;
    private readonly OrtValue _stepValue;

    /// <param name="parameters">Initial values of the trainable parameters, in the training graph's input order.</param>
    /// <param name="state">Optimizer state to resume from; missing state starts at zero.</param>
    /// <param name="chunks">Chunks each training batch runs in (<see cref="ChunkPolicy"/>).</param>
    /// <param name="extraOutputs">Further training-graph outputs returned with each step (BatchNorm batch statistics;
    /// only with one chunk).</param>
    /// <param name="classWeights">The loss's per-class weights, which weigh the batch chunks.</param>
    /// <param name="placementReport">Where device-resident runs report the execution provider of each graph's nodes
    /// (<see cref="NodePlacement"/>), learned from a profile of each graph's first run; lines of text.</param>
    public TrainingSession(Model training, Model eval, Model optimizer, IReadOnlyList<(string Name, Tensor Value)> parameters,
        IReadOnlyDictionary<string, Tensor>? state, ExecutionOptions execution, int chunks = 1, IReadOnlyList<string>? extraOutputs = null,
        IReadOnlyList<float>? classWeights = null, Action<string>? placementReport = null)
    {
        _execution = execution;
        _device = execution.KeepsTensorsOnDevice ? new DeviceTensors(execution) : null;
        _placementReport = _device is null ? null : placementReport;
        _trainingPlacement = Probe("training");
        _optimizerPlacement = Probe("optimizer");
        _evalPlacement = Probe("eval");
        using (var options = execution.CreateSessionOptions())
        {
            _evalPlacement?.Configure(options);
            _eval = new InferenceSession(ModelWriter.ToBytes(eval), options);
        }
        using (var options = execution.CreateSessionOptions())
        {
            _optimizerPlacement?.Configure(options);
            _optimizer = new InferenceSession(ModelWriter.ToBytes(optimizer), options);
        }
        _training = new DataParallelStep(ModelWriter.ToBytes(training), execution, chunks,
            [.. parameters.Select(p => (TrainingContract.Gradient(p.Name), p.Value.Dims))], classWeights, extraOutputs,
            _trainingPlacement is null ? null : (options, _) => _trainingPlacement.Configure(options), _device);
        _learningRateValue = OrtValue.CreateTensorValueFromMemory(_learningRate, []);
        _stepValue = OrtValue.CreateTensorValueFromMemory(_step, []);

        var names = parameters.SelectMany(p => new[] { p.Name, TrainingContract.Gradient(p.Name) }).ToHashSet();
        foreach (var (name, value) in parameters) _parameters.Add(new ParameterBuffers(name, value, _device));
        foreach (var input in optimizer.Graph.Inputs)
        {
            if (input.Name is TrainingContract.LearningRate or TrainingContract.Step || names.Contains(input.Name))
                continue;
            var dims = input.Type?.KnownDims ?? throw new GraphException($"optimizer state '{input.Name}' has no static shape");
            var initial = state?.GetValueOrDefault(input.Name) ?? Tensor.FromFloats(dims, new float[Tensor.ElementCount(dims)]);
            _states.Add(new ParameterBuffers(input.Name, initial, _device));
        }

        _optimizerBinding = _optimizer.CreateIoBinding();
        foreach (var (name, value) in _training.Gradients) _optimizerBinding.BindInput(name, value);
    }

    /// <summary>Optimizer steps taken so far (the next update is step + 1, which bias correction uses).</summary>
    public long Step { get => _step[0]; set => _step[0] = value; }

    /// <summary>One forward, backward and optimizer update on a batch.</summary>
    /// <param name="further">Values of the training graph's further inputs for this step (dropout masks).</param>
    public StepResult TrainStep(float[] images, long[] shape, long[] labels, float learningRate,
        IReadOnlyList<(string Name, float[] Values, long[] Shape)>? further = null)
    {
        var result = _training.Run(images, shape, labels, [.. _parameters.Select(p => (p.Name, p.Current))], further);
        _trainingPlacement?.AfterRun(_training.EndProfiling);
        if (!float.IsFinite(result.Loss)) return result;

        _learningRate[0] = learningRate;
        _step[0]++;
        // Bound each step: where the graph reads them on a device, binding is when ONNX Runtime copies them there.
        _optimizerBinding.BindInput(TrainingContract.LearningRate, _learningRateValue);
        _optimizerBinding.BindInput(TrainingContract.Step, _stepValue);
        foreach (var buffers in _parameters.Concat(_states))
        {
            _optimizerBinding.BindInput(buffers.Name, buffers.Current);
            _optimizerBinding.BindOutput(TrainingContract.Updated(buffers.Name), buffers.Next);
        }
        _optimizer.RunWithBinding(_runOptions, _optimizerBinding);
        _optimizerPlacement?.AfterRun(() => [_optimizer.EndProfiling()]);
        foreach (var buffers in _parameters.Concat(_states)) buffers.Swap();
        return result;
    }

    /// <summary>Loss and logits on a batch with the current parameters (no update).</summary>
    /// <param name="further">Values of the eval graph's further inputs (the running statistics of BatchNorm layers that train).</param>
    public StepResult Evaluate(float[] images, long[] shape, long[] labels, IReadOnlyList<(string Name, float[] Values, long[] Shape)>? further = null)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(images, shape);
        using var labelValue = OrtValue.CreateTensorValueFromMemory(labels, [labels.Length]);
        var feeds = new Dictionary<string, OrtValue> { [ClassifierContract.Input] = input, [TrainingContract.Labels] = labelValue };
        foreach (var p in _parameters) feeds[p.Name] = p.Current;
        var furtherValues = (further ?? []).Select(f => (f.Name, Value: OrtValue.CreateTensorValueFromMemory(f.Values, f.Shape))).ToList();
        try
        {
            foreach (var (name, value) in furtherValues) feeds[name] = value;
            using var outputs = _eval.Run(_runOptions, feeds, [TrainingContract.Loss, ClassifierContract.Logits]);
            _evalPlacement?.AfterRun(() => [_eval.EndProfiling()]);
            return StepResult.Read(outputs, labels.Length);
        }
        finally
        {
            foreach (var (_, value) in furtherValues) value.Dispose();
        }
    }

    private PlacementProbe? Probe(string graph) => _placementReport is null ? null : new PlacementProbe(graph, _execution.ProviderName, _placementReport);

    /// <summary>Current parameters and optimizer state by name, copied out (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> Snapshot() =>
        _parameters.Concat(_states).ToDictionary(b => b.Name, b => b.ToTensor());

    public IReadOnlyDictionary<string, Tensor> Parameters() => _parameters.ToDictionary(b => b.Name, b => b.ToTensor());

    public void Dispose()
    {
        // A graph that never ran (no validation set, a stop before the first step) leaves its profile unread.
        if (_trainingPlacement is { Reported: false }) foreach (var path in _training.EndProfiling()) File.Delete(path);
        if (_optimizerPlacement is { Reported: false }) PlacementProbe.Abandon(_optimizer.EndProfiling);
        if (_evalPlacement is { Reported: false }) PlacementProbe.Abandon(_eval.EndProfiling);
        _optimizerBinding.Dispose();
        _training.Dispose();
        _eval.Dispose();
        _optimizer.Dispose();
        _runOptions.Dispose();
        _learningRateValue.Dispose();
        _stepValue.Dispose();
        foreach (var b in _parameters.Concat(_states)) b.Dispose();
        _device?.Dispose();
    }
}
