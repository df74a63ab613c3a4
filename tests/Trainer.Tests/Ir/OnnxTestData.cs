using OnnxTrainer.Onnx.Protos;
using DataType = OnnxTrainer.Ir.DataType;
using Tensor = OnnxTrainer.Ir.Tensor;

namespace OnnxTrainer.Tests.Ir;

/// <summary>ONNX's own test cases (Debian package libonnx-testdata): where they are and how to read their tensors.</summary>
internal static class OnnxTestData
{
    public const string Root = "/usr/share/libonnx-testdata/data";

    public static string MissingMessage => $"ONNX test data not found under {Root}: install the Debian package libonnx-testdata (apt-get install libonnx-testdata)";

    public static TensorProto ReadProto(string path) => TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));

    /// <summary>A test tensor in our form; null for element types stored in forms we do not read here.</summary>
    public static Tensor? ToTensor(TensorProto proto)
    {
        long[] dims = [.. proto.Dims];
        var type = (DataType)proto.DataType;
        if (!proto.RawData.IsEmpty) return new Tensor(type, dims, proto.RawData.ToByteArray());
        return type switch
        {
            DataType.Int64 => Tensor.FromInt64s(dims, [.. proto.Int64Data]),
            DataType.Int32 => Tensor.FromInt32s(dims, [.. proto.Int32Data]),
            DataType.Float => Tensor.FromFloats(dims, [.. proto.FloatData]),
            DataType.Double => Tensor.FromDoubles(dims, [.. proto.DoubleData]),
            _ => null,
        };
    }
}
