using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// Two float buffers per tensor (parameter or optimizer state), wrapped once as OrtValues: the optimizer
/// graph reads the current one and writes the next, then they swap. No parameter-sized memory is
/// allocated per step. Owns native memory: dispose it.
/// </summary>
internal sealed class ParameterBuffers : IDisposable
{
    private readonly float[][] _data = new float[2][];
    private readonly OrtValue[] _values = new OrtValue[2];
    private int _current;

    public ParameterBuffers(string name, Tensor initial)
    {
        Name = name;
        Shape = initial.Dims;
        for (int i = 0; i < 2; i++)
        {
            _data[i] = initial.ToFloats();
            _values[i] = OrtValue.CreateTensorValueFromMemory(_data[i], Shape);
        }
    }

    public string Name { get; }
    public long[] Shape { get; }
    public OrtValue Current => _values[_current];
    public OrtValue Next => _values[1 - _current];
    public ReadOnlySpan<float> CurrentData => _data[_current];

    public void Swap() => _current = 1 - _current;

    public Tensor ToTensor() => Tensor.FromFloats(Shape, _data[_current]);

    public void Load(Tensor tensor)
    {
        if (!tensor.Dims.SequenceEqual(Shape))
            throw new InvalidDataException($"'{Name}' has shape [{string.Join(", ", tensor.Dims)}] in the checkpoint but [{string.Join(", ", Shape)}] in the model");
        tensor.ToFloats().CopyTo(_data[_current], 0);
    }

    public void Dispose()
    {
        foreach (var value in _values) value.Dispose();
    }
}
