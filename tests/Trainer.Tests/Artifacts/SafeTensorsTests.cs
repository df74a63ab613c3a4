using System.Buffers.Binary;
using System.Text;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Fixtures;
using OnnxTrainer.Tests.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

public class SafeTensorsTests
{
    private static readonly Dictionary<string, Tensor> Sample = new()
    {
        ["weight"] = Tensor.FromFloats([2, 3], [1f, -2f, 3.5f, float.Epsilon, -0f, float.MaxValue]),
        ["scale"] = Tensor.FromDoubles([], [Math.PI]),
        ["labels"] = Tensor.FromInt64s([3], [0, -1, long.MaxValue]),
        ["empty"] = Tensor.FromFloats([0, 4], []),
        ["bytes"] = new Tensor(DataType.UInt8, [3], new byte[] { 1, 2, 255 }),
        ["half"] = new Tensor(DataType.Float16, [2], new byte[] { 0x00, 0x3c, 0x00, 0xc0 }),
    };

    private static byte[] ToBytes(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    [Fact]
    public void Write_ThenRead_RoundTripsTensorsAndMetadataExactly()
    {
        using var folder = new TempFolder();
        string path = folder.File("sample.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é \"quoted\"" };
        byte[] written = ToBytes(Sample, metadata);
        File.WriteAllBytes(path, written);

        var (tensors, readMetadata) = SafeTensors.Read(path);

        Assert.Equal(Sample.Keys.Order(), tensors.Keys.Order());
        foreach (var (name, tensor) in Sample)
        {
            Assert.Equal(tensor.ElementType, tensors[name].ElementType);
            Assert.Equal(tensor.Dims, tensors[name].Dims);
            Assert.Equal(tensor.Data.ToArray(), tensors[name].Data.ToArray());
        }
        Assert.Equal(metadata, readMetadata);
        Assert.Equal(written, ToBytes(tensors, readMetadata));
    }

    [Fact]
    public void Write_AnyTensors_HeaderPaddedTo8BytesAndWiderElementsFirst()
    {
        byte[] bytes = ToBytes(Sample);

        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Equal(0, headerLength % 8);
        Assert.StartsWith("{\"labels\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},\"scale\":", header, StringComparison.Ordinal);
        Assert.Matches("^[^ ]+ *$", header);
    }

    /// <summary>The fixture script writes these with its own minimal writer, following the PyTorch/Hugging Face conventions.</summary>
    [Fact]
    public void Read_FileWrittenByPythonFixtureScript_LoadsEveryTensor()
    {
        string path = GeneratedFixtures.ReferencePath("resnet_small");

        var (tensors, metadata) = SafeTensors.Read(path);

        Assert.Empty(metadata);
        Assert.Equal(DataType.Float, tensors["input"].ElementType);
        Assert.Equal(4, tensors["input"].Dims.Length);
        Assert.Equal(DataType.Int64, tensors["labels"].ElementType);
        Assert.Equal(DataType.Double, tensors["loss"].ElementType);
        Assert.True(double.IsFinite(tensors["loss"].ToDoubles()[0]));
        Assert.Contains(tensors.Keys, n => n.StartsWith("grad/", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "short", "the file is 5 bytes long; a safetensors file starts with an 8-byte header length" },
        { "header-past-end", "the header length 4096 runs past the end of the file" },
        { "not-json", "the header is not valid JSON" },
        { "not-object", "the header is a JSON Array, not an object of tensors" },
        { "duplicate", "the header is not valid JSON" },
        { "unknown-dtype", "tensor 'w' has dtype \"F8_E4M3\"; supported: F64, F32" },
        { "missing-shape", "tensor 'w' has no 'shape'" },
        { "negative-dim", "tensor 'w': 'shape' holds -2, not a non-negative integer" },
        { "offsets-out-of-range", "tensor 'w' has data_offsets [0, 400] outside the data section of 8 bytes" },
        { "offsets-reversed", "tensor 'w' has data_offsets [8, 0] outside the data section" },
        { "three-offsets", "'data_offsets' must be [begin, end], found 3 numbers" },
        { "dtype-shape-mismatch", "tensor 'w' is F64 [2], 16 bytes, but its data_offsets [0, 8] span 8" },
        { "overlap", "tensor 'b' starts at data byte 0 but the previous tensor ends at 8: the tensors overlap or leave a gap" },
        { "trailing-bytes", "the tensors cover 8 bytes but the data section holds 12" },
        { "truncated-data", "tensor 'w' has data_offsets [0, 8] outside the data section of 5 bytes: the file is truncated" },
        { "metadata-not-string", "metadata 'epoch' must be a string, not a JSON Number" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Read_CorruptFile_ThrowsNamingFileAndProblem(string corruption, string message)
    {
        using var folder = new TempFolder();
        string path = folder.File(corruption + ".safetensors");
        File.WriteAllBytes(path, corruption switch
        {
            "short" => [1, 2, 3, 4, 5],
            "header-past-end" => [0, 16, 0, 0, 0, 0, 0, 0, .. new byte[20]], // 4096 announced, 20 present
            "not-json" => Raw("{\"w\":", new byte[8]),
            "not-object" => Raw("[1, 2]", []),
            "duplicate" => Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
            "unknown-dtype" => Raw(Entry("w", "F8_E4M3", "[8]", 0, 8), new byte[8]),
            "missing-shape" => Raw("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", new byte[8]),
            "negative-dim" => Raw(Entry("w", "F32", "[-2]", 0, 8), new byte[8]),
            "offsets-out-of-range" => Raw(Entry("w", "F32", "[100]", 0, 400), new byte[8]),
            "offsets-reversed" => Raw(Entry("w", "F32", "[2]", 8, 0), new byte[8]),
            "three-offsets" => Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", new byte[8]),
            "dtype-shape-mismatch" => Raw(Entry("w", "F64", "[2]", 0, 8), new byte[8]),
            "overlap" => Raw("{" + Entry("w", "F32", "[2]", 0, 8)[1..^1] + "," + Entry("b", "F32", "[2]", 0, 8)[1..^1] + "}", new byte[8]),
            "trailing-bytes" => Raw(Entry("w", "F32", "[2]", 0, 8), new byte[12]),
            "truncated-data" => Raw(Entry("w", "F32", "[2]", 0, 8), new byte[5]),
            _ => Raw("{\"__metadata__\":{\"epoch\":3}," + Entry("w", "F32", "[2]", 0, 8)[1..], new byte[8]),
        });

        var error = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_StringTensor_Throws()
    {
        var tensors = new Dictionary<string, Tensor> { ["names"] = new([1], [Encoding.UTF8.GetBytes("cat")]) };

        var error = Assert.Throws<ArgumentException>(() => ToBytes(tensors));

        Assert.Contains("'names' is a string tensor", error.Message, StringComparison.Ordinal);
    }

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"{{\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}}}";

    /// <summary>A file with this exact header text (no padding) and data section.</summary>
    private static byte[] Raw(string header, byte[] data)
    {
        byte[] text = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)text.Length);
        text.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + text.Length);
        return bytes;
    }
}
