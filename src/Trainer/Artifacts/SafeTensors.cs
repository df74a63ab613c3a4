using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// The safetensors format (Hugging Face; what PyTorch users save weights in): an 8-byte little-endian
/// header length, a JSON header <c>{name: {dtype, shape, data_offsets}}</c> with an optional
/// <c>__metadata__</c> string map, padded with spaces to 8 bytes, then the raw little-endian tensor data.
/// The reader checks everything the reference implementation checks, with messages naming the file.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>The reference implementation's limit: a larger length is a corrupt file, not a real header.</summary>
    private const long MaxHeaderLength = 100_000_000;

    private static readonly JsonWriterOptions HeaderWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly (DataType Type, string Name)[] DTypes =
    [
        (DataType.Double, "F64"), (DataType.Float, "F32"), (DataType.Float16, "F16"), (DataType.BFloat16, "BF16"),
        (DataType.Int64, "I64"), (DataType.Int32, "I32"), (DataType.Int16, "I16"), (DataType.Int8, "I8"),
        (DataType.UInt64, "U64"), (DataType.UInt32, "U32"), (DataType.UInt16, "U16"), (DataType.UInt8, "U8"), (DataType.Bool, "BOOL"),
    ];

    public static string DTypeName(DataType type) =>
        DTypes.FirstOrDefault(d => d.Type == type).Name ?? throw new ArgumentException($"safetensors has no dtype for {type.OnnxName()} tensors");

    /// <summary>
    /// Writes the tensors ordered as the reference implementation orders them (wider elements first, then by
    /// name), so every tensor starts aligned to its element size and equal inputs give equal bytes.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(stream, tensors, metadata, hash: null);

    internal static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, IncrementalHash? hash)
    {
        var ordered = tensors.OrderByDescending(t => t.Value.ElementType.ElementSize()).ThenBy(t => t.Key, StringComparer.Ordinal).ToList();
        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header, HeaderWriterOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in ordered)
            {
                if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor");
                if (tensor.Strings is not null) throw new ArgumentException($"'{name}' is a string tensor; safetensors holds numbers only");
                json.WriteStartObject(name);
                json.WriteString("dtype", DTypeName(tensor.ElementType));
                json.WriteStartArray("shape");
                foreach (var d in tensor.Dims) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += tensor.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (8 - header.WrittenCount % 8) % 8;
        header.Write(Enumerable.Repeat((byte)' ', padding).ToArray());

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.WrittenCount);
        Emit(stream, length, hash);
        Emit(stream, header.WrittenSpan, hash);
        foreach (var (_, tensor) in ordered) Emit(stream, tensor.Data.Span, hash);
    }

    private static void Emit(Stream stream, ReadOnlySpan<byte> bytes, IncrementalHash? hash)
    {
        stream.Write(bytes);
        hash?.AppendData(bytes);
    }

    /// <summary>Reads every tensor (each into its own buffer) and the metadata map (empty when absent).</summary>
    public static (IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path) =>
        Read(path, hash: null);

    internal static (IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path, IncrementalHash? hash)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Corrupt(path, $"the file is {fileLength} bytes long; a safetensors file starts with an 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        hash?.AppendData(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw Corrupt(path, $"the header length {headerLength} runs past the end of the file ({fileLength} bytes): the file is truncated or not safetensors");
        if (headerLength > MaxHeaderLength)
            throw Corrupt(path, $"the header length {headerLength} exceeds the format's limit of {MaxHeaderLength} bytes");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        hash?.AppendData(headerBytes);

        long dataLength = fileLength - 8 - (long)headerLength;
        var (entries, metadata) = ParseHeader(path, headerBytes, dataLength);
        var tensors = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries.OrderBy(e => e.Begin))
        {
            var data = new byte[entry.End - entry.Begin];
            try { stream.ReadExactly(data); }
            catch (EndOfStreamException e) { throw Corrupt(path, $"the file ended inside tensor '{entry.Name}' (it changed while being read?)", e); }
            hash?.AppendData(data);
            tensors.Add(entry.Name, new Tensor(entry.Type, entry.Shape, data));
        }
        return (tensors, metadata);
    }

    private sealed record Entry(string Name, DataType Type, long[] Shape, long Begin, long End);

    private static (List<Entry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(header, new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw Corrupt(path, $"the header is not valid JSON ({e.Message})", e); }
        using var _ = document;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"the header is a JSON {document.RootElement.ValueKind}, not an object of tensors");

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw Corrupt(path, $"'{MetadataKey}' must be an object of strings");
                foreach (var item in property.Value.EnumerateObject())
                    metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                        ? item.Value.GetString()! : throw Corrupt(path, $"metadata '{item.Name}' must be a string, not a JSON {item.Value.ValueKind}");
                continue;
            }
            entries.Add(ParseEntry(path, property, dataLength));
        }

        // Like the reference implementation, the tensors must tile the data section exactly: no overlap, no gap, nothing after.
        long expected = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin))
        {
            if (entry.Begin != expected)
                throw Corrupt(path, $"tensor '{entry.Name}' starts at data byte {entry.Begin} but the previous tensor ends at {expected}: the tensors overlap or leave a gap");
            expected = entry.End;
        }
        if (expected != dataLength)
            throw Corrupt(path, $"the tensors cover {expected} bytes but the data section holds {dataLength}");
        return (entries, metadata);
    }

    private static Entry ParseEntry(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Corrupt(path, $"tensor '{name}': expected {{dtype, shape, data_offsets}}, found a JSON {value.ValueKind}");
        JsonElement Field(string field) => value.TryGetProperty(field, out var f) ? f : throw Corrupt(path, $"tensor '{name}' has no '{field}'");
        long[] Integers(string field)
        {
            var array = Field(field);
            if (array.ValueKind != JsonValueKind.Array) throw Corrupt(path, $"tensor '{name}': '{field}' must be an array");
            return [.. array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) && v >= 0
                ? v : throw Corrupt(path, $"tensor '{name}': '{field}' holds {e.GetRawText()}, not a non-negative integer"))];
        }

        string? dtype = Field("dtype").ValueKind == JsonValueKind.String ? Field("dtype").GetString() : null;
        var type = DTypes.FirstOrDefault(d => d.Name == dtype).Type;
        if (type == DataType.Undefined)
            throw Corrupt(path, $"tensor '{name}' has dtype {Field("dtype").GetRawText()}; supported: {string.Join(", ", DTypes.Select(d => d.Name))}");
        long[] shape = Integers("shape");
        long[] offsets = Integers("data_offsets");
        if (offsets.Length != 2) throw Corrupt(path, $"tensor '{name}': 'data_offsets' must be [begin, end], found {offsets.Length} numbers");
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end || end > dataLength)
            throw Corrupt(path, $"tensor '{name}' has data_offsets [{begin}, {end}] outside the data section of {dataLength} bytes: the file is truncated or the header is corrupt");
        long bytes;
        try { bytes = checked(Tensor.ElementCount(shape) * type.ElementSize()); }
        catch (OverflowException) { throw Corrupt(path, $"tensor '{name}' has an impossible shape [{string.Join(", ", shape)}]"); }
        if (bytes != end - begin)
            throw Corrupt(path, $"tensor '{name}' is {dtype} [{string.Join(", ", shape)}], {bytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin}");
        if (bytes > Array.MaxLength) throw Corrupt(path, $"tensor '{name}' is {bytes} bytes; tensors over {Array.MaxLength} bytes are not supported");
        return new Entry(name, type, shape, begin, end);
    }

    private static CheckpointFormatException Corrupt(string path, string problem, Exception? inner = null) => new($"{path}: {problem}", inner);
}
