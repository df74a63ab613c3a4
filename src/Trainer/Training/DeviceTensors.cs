using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Training;

/// <summary>
/// Float tensors in the execution device's memory (GPU memory for CUDA, host memory for the CPU), and the copies
/// between them and the host. ONNX Runtime's C# API has no device copy of its own for a provider added the classic
/// way, so a one-node Identity session on the same device does it through IO binding: a host value bound as its input
/// is copied to the device once, at binding, and its output is written into the tensor bound for it. The same path
/// runs with the CPU provider, which is how the device-resident loop is tested without a GPU.
/// Owns a native session and allocator: dispose it after every tensor it allocated.
/// </summary>
public sealed class DeviceTensors : IDisposable
{
    private const string InputName = "x";
    private const string OutputName = "y";

    private readonly InferenceSession _identity;
    private readonly OrtIoBinding _binding;
    private readonly OrtAllocator _allocator;
    private readonly RunOptions _runOptions = new();

    public DeviceTensors(ExecutionOptions execution)
    {
        Memory = execution.DeviceMemory();
        using (var options = execution.CreateSessionOptions(threads: 1))
            _identity = new InferenceSession(ModelWriter.ToBytes(IdentityModel()), options);
        _binding = _identity.CreateIoBinding();
        _allocator = new OrtAllocator(_identity, Memory);
    }

    /// <summary>Where the tensors live.</summary>
    public OrtMemoryInfo Memory { get; }

    /// <summary>A new device tensor holding these values. The caller owns it (dispose it before this).</summary>
    public OrtValue Upload(float[] values, long[] shape)
    {
        var tensor = OrtValue.CreateAllocatedTensorValue(_allocator, TensorElementType.Float, shape);
        CopyInto(values, tensor);
        return tensor;
    }

    /// <summary>Overwrites a device tensor with host values of the same shape.</summary>
    private void CopyInto(float[] values, OrtValue target)
    {
        using var source = OrtValue.CreateTensorValueFromMemory(values, target.GetTensorTypeAndShape().Shape);
        Copy(source, target);
    }

    /// <summary>The values of a device tensor, copied to the host.</summary>
    public float[] Download(OrtValue source)
    {
        var shape = source.GetTensorTypeAndShape().Shape;
        var values = new float[Ir.Tensor.ElementCount(shape)];
        using var target = OrtValue.CreateTensorValueFromMemory(values, shape);
        Copy(source, target);
        return values;
    }

    private void Copy(OrtValue source, OrtValue target)
    {
        _binding.BindInput(InputName, source);
        _binding.BindOutput(OutputName, target);
        _identity.RunWithBinding(_runOptions, _binding);
        _binding.SynchronizeBoundOutputs();
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
    }

    /// <summary>y = Identity(x) for a float tensor of any shape.</summary>
    private static Model IdentityModel()
    {
        var graph = new Graph { Name = "device_copy" };
        var x = graph.AddInput(InputName, new TensorType(DataType.Float, null));
        graph.AddNode("Identity", [x], [OutputName]);
        var y = graph[OutputName];
        y.Type = x.Type;
        graph.Outputs.Add(y);
        return new Model { Graph = graph };
    }

    public void Dispose()
    {
        _binding.Dispose();
        _allocator.Dispose();
        _identity.Dispose();
        _runOptions.Dispose();
        if (Memory != OrtMemoryInfo.DefaultInstance) Memory.Dispose();
    }
}
