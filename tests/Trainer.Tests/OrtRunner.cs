using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Tests;

/// <summary>Runs a model in ONNX Runtime with float or double inputs; outputs come back as doubles with their shapes.</summary>
internal sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;

    // One thread: results are then bit-for-bit reproducible, and the test machine has few cores.
    public OrtRunner(Model model, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(ModelWriter.ToBytes(model), options);
    }

    /// <summary>Runs a model file once on one float input and returns its first output.</summary>
    public static float[] Run(string modelPath, string inputName, float[] input, long[] shape)
    {
        using var runner = new OrtRunner(ModelReader.Load(modelPath));
        var output = runner.Run(new Dictionary<string, (DataType, long[], double[])> { [inputName] = (DataType.Float, shape, Array.ConvertAll(input, v => (double)v)) })[0];
        return Array.ConvertAll(output.Data, v => (float)v);
    }

    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    public List<(double[] Data, long[] Shape)> Run(IReadOnlyDictionary<string, (DataType Type, long[] Shape, double[] Data)> inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            var feed = new Dictionary<string, OrtValue>();
            foreach (var (name, input) in inputs)
            {
                var value = Create(input);
                values.Add(value);
                feed[name] = value;
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, feed, _session.OutputNames);
            return [.. outputs.Select(Read)];
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>The element type and shape of every output.</summary>
    public List<TensorType> RunTyped(IReadOnlyDictionary<string, (DataType Type, long[] Shape, double[] Data)> inputs)
    {
        var feed = inputs.ToDictionary(kv => kv.Key, kv => kv.Value);
        using var values = new DisposableList(feed.Select(kv => Create(kv.Value)).ToList());
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, feed.Keys.Zip(values.Items).ToDictionary(p => p.First, p => p.Second), _session.OutputNames);
        return [.. outputs.Select(o => o.GetTensorTypeAndShape()).Select(info => TensorType.Of(info.ElementDataType switch
        {
            TensorElementType.Double => DataType.Double,
            TensorElementType.Float => DataType.Float,
            TensorElementType.Int64 => DataType.Int64,
            TensorElementType.Bool => DataType.Bool,
            _ => (DataType)(int)info.ElementDataType,
        }, info.Shape))];
    }

    private sealed class DisposableList(List<OrtValue> items) : IDisposable
    {
        public List<OrtValue> Items => items;
        public void Dispose() { foreach (var item in items) item.Dispose(); }
    }

    private static OrtValue Create((DataType Type, long[] Shape, double[] Data) input) => input.Type switch
    {
        DataType.Double => OrtValue.CreateTensorValueFromMemory(input.Data.ToArray(), input.Shape),
        DataType.Float => OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(input.Data, v => (float)v), input.Shape),
        DataType.Int64 => OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(input.Data, v => (long)v), input.Shape),
        _ => throw new NotSupportedException(input.Type.ToString()),
    };

    private static (double[], long[]) Read(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        double[] data = info.ElementDataType switch
        {
            TensorElementType.Double => value.GetTensorDataAsSpan<double>().ToArray(),
            TensorElementType.Float => Array.ConvertAll(value.GetTensorDataAsSpan<float>().ToArray(), v => (double)v),
            TensorElementType.Int64 => Array.ConvertAll(value.GetTensorDataAsSpan<long>().ToArray(), v => (double)v),
            TensorElementType.Bool => Array.ConvertAll(value.GetTensorDataAsSpan<bool>().ToArray(), v => v ? 1.0 : 0.0),
            _ => throw new NotSupportedException(info.ElementDataType.ToString()),
        };
        return (data, info.Shape);
    }

    public void Dispose() => _session.Dispose();
}
