namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// A small integer (or bool) tensor whose elements are known or symbolic: the "shape arithmetic"
/// that exporters emit (Shape, Gather, Concat ...). Float tensors are never represented.
/// </summary>
internal sealed class SymbolicTensor
{
    /// <summary>Larger tensors are not tracked: they are data, not shapes.</summary>
    public const int MaxElements = 1024;

    public DataType ElementType { get; }
    public long[] Dims { get; }
    public SymbolicInt[] Elements { get; }

    private SymbolicTensor(DataType elementType, long[] dims, SymbolicInt[] elements)
    {
        ElementType = elementType;
        Dims = dims;
        Elements = elements;
    }

    /// <summary>Null when the element type is not integral or the tensor is too large to track.</summary>
    public static SymbolicTensor? Create(DataType elementType, long[] dims, SymbolicInt[] elements) =>
        IsTracked(elementType) && elements.Length <= MaxElements && Tensor.ElementCount(dims) == elements.Length
            ? new SymbolicTensor(elementType, dims, elements)
            : null;

    public static SymbolicTensor? Create(DataType elementType, long[] dims, IEnumerable<long> values) =>
        Create(elementType, dims, values.Select(SymbolicInt.Known).ToArray());

    public static SymbolicTensor? FromTensor(Tensor tensor) =>
        IsTracked(tensor.ElementType) && tensor.ElementCount() <= MaxElements
            ? new SymbolicTensor(tensor.ElementType, tensor.Dims, Array.ConvertAll(tensor.ToInt64s(), SymbolicInt.Known))
            : null;

    public static bool IsTracked(DataType type) => type is DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8
        or DataType.UInt64 or DataType.UInt32 or DataType.UInt16 or DataType.UInt8 or DataType.Bool;

    public int Rank => Dims.Length;

    public bool IsFullyKnown => Elements.All(e => e.IsKnown);

    /// <summary>The values when every element is known.</summary>
    public long[]? KnownValues => IsFullyKnown ? Array.ConvertAll(Elements, e => e.Value!.Value) : null;

    public TensorType Type => TensorType.Of(ElementType, Dims);

    public SymbolicTensor WithDims(long[] dims) => new(ElementType, dims, Elements);

    /// <summary>The constant in raw form, for folding into an initializer; null unless fully known.</summary>
    public Tensor? ToTensor()
    {
        if (KnownValues is not { } v) return null;
        return ElementType switch
        {
            DataType.Int64 => Tensor.FromInt64s(Dims, v),
            DataType.Int32 => Tensor.FromInt32s(Dims, Array.ConvertAll(v, x => (int)x)),
            DataType.UInt64 => Raw(v, x => BitConverter.GetBytes((ulong)x)),
            DataType.UInt32 => Raw(v, x => BitConverter.GetBytes((uint)x)),
            DataType.Int16 => Raw(v, x => BitConverter.GetBytes((short)x)),
            DataType.UInt16 => Raw(v, x => BitConverter.GetBytes((ushort)x)),
            _ => new Tensor(ElementType, Dims, Array.ConvertAll(v, x => (byte)x)),
        };
    }

    private Tensor Raw(long[] values, Func<long, byte[]> bytes) => new(ElementType, Dims, values.SelectMany(bytes).ToArray());

    /// <summary>Wraps a value into the range of an element type, as a cast to it would.</summary>
    public static long Wrap(DataType type, long value) => type switch
    {
        DataType.Int32 => (int)value,
        DataType.Int16 => (short)value,
        DataType.Int8 => (sbyte)value,
        DataType.UInt32 => (uint)value,
        DataType.UInt16 => (ushort)value,
        DataType.UInt8 => (byte)value,
        DataType.Bool => value != 0 ? 1 : 0,
        _ => value,
    };
}
