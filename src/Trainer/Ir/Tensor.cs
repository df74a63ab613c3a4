using System.Runtime.InteropServices;

namespace OnnxTrainer.Ir;

/// <summary>
/// Constant tensor data in ONNX's raw layout (little-endian, row-major). The bytes are usually a
/// slice of the buffer the model was read into, so loading a large model does not copy weights twice.
/// String tensors keep their elements in <see cref="Strings"/> instead.
/// </summary>
public sealed class Tensor
{
    public DataType ElementType { get; }
    public long[] Dims { get; }
    public ReadOnlyMemory<byte> Data { get; }
    public IReadOnlyList<byte[]>? Strings { get; }

    public Tensor(DataType elementType, long[] dims, ReadOnlyMemory<byte> data)
    {
        ElementType = elementType;
        Dims = dims;
        Data = data;
        long expected = ElementCount(dims) * elementType.ElementSize();
        if (elementType.ElementSize() == 0)
            throw new ArgumentException($"element type {elementType} has no raw layout");
        if (data.Length != expected)
            throw new ArgumentException($"{data.Length} bytes of data for shape [{string.Join(", ", dims)}] of {elementType.OnnxName()} (expected {expected})");
    }

    public Tensor(long[] dims, IReadOnlyList<byte[]> strings)
    {
        ElementType = DataType.String;
        Dims = dims;
        Strings = strings;
        if (strings.Count != ElementCount(dims))
            throw new ArgumentException($"{strings.Count} strings for shape [{string.Join(", ", dims)}]");
    }

    public long ElementCount() => ElementCount(Dims);

    public static long ElementCount(IReadOnlyList<long> dims)
    {
        long n = 1;
        foreach (var d in dims) n = checked(n * d);
        return n;
    }

    public TensorType Type => TensorType.Of(ElementType, Dims);

    public static Tensor FromFloats(long[] dims, ReadOnlySpan<float> values) => From(DataType.Float, dims, values);
    public static Tensor FromDoubles(long[] dims, ReadOnlySpan<double> values) => From(DataType.Double, dims, values);
    public static Tensor FromInt64s(long[] dims, ReadOnlySpan<long> values) => From(DataType.Int64, dims, values);
    public static Tensor FromInt32s(long[] dims, ReadOnlySpan<int> values) => From(DataType.Int32, dims, values);
    public static Tensor FromHalfs(long[] dims, ReadOnlySpan<Half> values) => From(DataType.Float16, dims, values);

    /// <summary>A floating-point tensor of <paramref name="type"/> (double, float or float16) holding <paramref name="values"/>, rounded to it.</summary>
    public static Tensor FromReals(DataType type, long[] dims, double[] values) => type switch
    {
        DataType.Double => FromDoubles(dims, values),
        DataType.Float => FromFloats(dims, Array.ConvertAll(values, v => (float)v)),
        DataType.Float16 => FromHalfs(dims, Array.ConvertAll(values, v => (Half)v)),
        _ => throw new GraphException($"no floating-point constant of type {type.OnnxName()}"),
    };
    public static Tensor Scalar(float value) => FromFloats([], [value]);
    public static Tensor Scalar(long value) => FromInt64s([], [value]);
    public static Tensor Vector(params long[] values) => FromInt64s([values.Length], values);

    private static Tensor From<T>(DataType type, long[] dims, ReadOnlySpan<T> values) where T : unmanaged =>
        new(type, dims, MemoryMarshal.AsBytes(values).ToArray());

    public ReadOnlySpan<T> Span<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data.Span);

    public float[] ToFloats() => ElementType switch
    {
        DataType.Float => Span<float>().ToArray(),
        DataType.Double => Array.ConvertAll(Span<double>().ToArray(), v => (float)v),
        DataType.Float16 => Array.ConvertAll(Span<Half>().ToArray(), v => (float)v),
        _ => Array.ConvertAll(ToInt64s(), v => (float)v),
    };

    public double[] ToDoubles() => ElementType switch
    {
        DataType.Double => Span<double>().ToArray(),
        DataType.Float => Array.ConvertAll(Span<float>().ToArray(), v => (double)v),
        DataType.Float16 => Array.ConvertAll(Span<Half>().ToArray(), v => (double)v),
        _ => Array.ConvertAll(ToInt64s(), v => (double)v),
    };

    /// <summary>Integer (and bool) tensors as int64 values, for shape arithmetic.</summary>
    public long[] ToInt64s() => ElementType switch
    {
        DataType.Int64 => Span<long>().ToArray(),
        DataType.Int32 => Array.ConvertAll(Span<int>().ToArray(), v => (long)v),
        DataType.UInt64 => Array.ConvertAll(Span<ulong>().ToArray(), v => (long)v),
        DataType.UInt32 => Array.ConvertAll(Span<uint>().ToArray(), v => (long)v),
        DataType.Int16 => Array.ConvertAll(Span<short>().ToArray(), v => (long)v),
        DataType.UInt16 => Array.ConvertAll(Span<ushort>().ToArray(), v => (long)v),
        DataType.Int8 => Array.ConvertAll(Span<sbyte>().ToArray(), v => (long)v),
        DataType.UInt8 or DataType.Bool => Array.ConvertAll(Data.ToArray(), v => (long)v),
        DataType.Float or DataType.Double or DataType.Float16 => Array.ConvertAll(ToDoubles(), v => (long)v),
        _ => throw new InvalidOperationException($"cannot read {ElementType.OnnxName()} tensor as integers"),
    };

    public override string ToString() => $"{ElementType.OnnxName()}[{string.Join(", ", Dims)}]";
}
