namespace OnnxTrainer.Ir;

/// <summary>ONNX tensor element types, numbered as in TensorProto.DataType.</summary>
public enum DataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

public static class DataTypeExtensions
{
    /// <summary>Bytes per element in raw (little-endian) storage; 0 for types we do not store raw.</summary>
    public static int ElementSize(this DataType type) => type switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 4,
        DataType.Double or DataType.Int64 or DataType.UInt64 or DataType.Complex64 => 8,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        DataType.UInt16 or DataType.Int16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Complex128 => 16,
        _ => 0,
    };

    public static bool IsFloatingPoint(this DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    public static string OnnxName(this DataType type) => type switch
    {
        DataType.Float => "float",
        DataType.Double => "double",
        DataType.Float16 => "float16",
        DataType.BFloat16 => "bfloat16",
        _ => type.ToString().ToLowerInvariant(),
    };
}
