using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// Two float buffers per tensor (parameter or optimizer state), wrapped once as OrtValues: the optimizer
/// graph reads the current one and writes the next, then they swap. No parameter-sized memory is
/// allocated per step. The buffers are host arrays, or tensors in the device's memory (<see cref="DeviceTensors"/>),
/// which are copied to the host only when asked for (checkpoints, export). Owns native memory: dispose it.
/// </summary>
internal sealed class ParameterBuffers : IDisposable
{
    private readonly float[]?[] _data = new float[2][];
    private readonly OrtValue[] _values = new OrtValue[2];
    private readonly DeviceTensors? _device;
    private int _current;

    /// <param name="device">Where the buffers live; null: host arrays.</param>
    public ParameterBuffers(string name, Tensor initial, DeviceTensors? device = null)
    {
        Name = name;
        Shape = initial.Dims;
        _device = device;
        for (int i = 0; i < 2; i++)
        {
            if (device is null)
            {
                _data[i] = initial.ToFloats();
                _values[i] = OrtValue.CreateTensorValueFromMemory(_data[i]!, Shape);
            }
            else
            {
                _values[i] = device.Upload(initial.ToFloats(), Shape);
            }
        }
    }

    public string Name { get; }
    public long[] Shape { get; }
    public OrtValue Current => _values[_current];
    public OrtValue Next => _values[1 - _current];

    public void Swap() => _current = 1 - _current;

    public Tensor ToTensor() => Tensor.FromFloats(Shape, _device is null ? _data[_current]! : _device.Download(Current));

    public void Dispose()
    {
        foreach (var value in _values) value.Dispose();
    }
}
