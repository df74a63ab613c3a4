using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace OnnxTrainer.Tests.Fixtures;

/// <summary>
/// Reads the safetensors files the fixture script writes: an 8-byte little-endian header length, a JSON
/// header {name: {dtype, shape, data_offsets}}, then raw little-endian data. Test-only; loads it all.
/// </summary>
public sealed class SafeTensorsFile
{
    private readonly byte[] _bytes;
    private readonly int _dataStart;
    private readonly Dictionary<string, (string DType, long[] Shape, int Begin, int End)> _entries = new(StringComparer.Ordinal);

    public SafeTensorsFile(string path)
    {
        _bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(_bytes));
        _dataStart = 8 + headerLength;
        using var header = JsonDocument.Parse(_bytes.AsMemory(8, headerLength));
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var offsets = entry.Value.GetProperty("data_offsets");
            _entries[entry.Name] = (entry.Value.GetProperty("dtype").GetString()!,
                entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                offsets[0].GetInt32(), offsets[1].GetInt32());
        }
    }

    public IEnumerable<string> Names => _entries.Keys;

    public long[] Shape(string name) => _entries[name].Shape;

    public string DType(string name) => _entries[name].DType;

    public float[] Floats(string name) => Read<float>(name, "F32");

    public double[] Doubles(string name) => Read<double>(name, "F64");

    public long[] Int64s(string name) => Read<long>(name, "I64");

    private T[] Read<T>(string name, string dtype) where T : unmanaged
    {
        var (actual, _, begin, end) = _entries[name];
        if (actual != dtype) throw new InvalidOperationException($"'{name}' is {actual}, not {dtype}");
        return MemoryMarshal.Cast<byte, T>(_bytes.AsSpan(_dataStart + begin, end - begin)).ToArray();
    }
}
