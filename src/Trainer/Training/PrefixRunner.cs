using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Training;

/// <summary>
/// Runs the frozen prefix of the network forward only, turning image batches into the boundary tensor the
/// trainable suffix reads. Its weights stay initializers, so ONNX Runtime folds and pre-packs them.
/// Owns a native session: dispose it.
/// </summary>
public sealed class PrefixRunner : IDisposable
{
    private readonly RunOptions _runOptions = new();
    private readonly string _input;
    private readonly string _output;

    public PrefixRunner(Model prefix, ExecutionOptions execution)
    {
        using var options = execution.CreateSessionOptions();
        Session = new InferenceSession(ModelWriter.ToBytes(prefix), options);
        _input = prefix.Graph.Inputs.Single().Name;
        _output = prefix.Graph.Outputs.Single().Name;
        var dims = prefix.Graph.Outputs[0].Type?.Shape ?? throw new GraphException($"the prefix output '{_output}' has no shape");
        FeatureShape = [.. dims.Skip(1).Select(d => d.Value ?? throw new GraphException($"the prefix output '{_output}' must have static per-image dims (got {prefix.Graph.Outputs[0].Type})"))];
    }

    /// <summary>The prefix's session, owned by this runner (for measurements such as its arena's size).</summary>
    public InferenceSession Session { get; }

    /// <summary>Shape of one image's features (without the batch axis).</summary>
    public long[] FeatureShape { get; }

    public int FeatureLength => (int)Tensor.ElementCount(FeatureShape);

    /// <summary>Features of a batch, [N, ...FeatureShape] row-major.</summary>
    public float[] Run(float[] images, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(images, shape);
        using var outputs = Session.Run(_runOptions, [_input], [input], [_output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        Session.Dispose();
        _runOptions.Dispose();
    }
}
