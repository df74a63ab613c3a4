using System.Text;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Inference.Tests;

/// <summary>
/// Writes a small ONNX classifier for the library's tests without depending on the trainer:
/// input [N, 3, 32, 32] -> Flatten -> Gemm (seeded weights, so every pixel matters) -> <c>logits</c> ->
/// Softmax -> <c>probabilities</c>, with the metadata contract. Protobuf is written by hand (field
/// numbers from onnx.proto), which keeps this project's dependencies those of the library.
/// </summary>
public static class TinyClassifierModel
{
    public const int Size = 32;

    public static readonly IReadOnlyList<string> Labels = ["red", "green", "blue", "gray"];

    public static readonly PreprocessingSpec Preprocessing = new()
    {
        InputHeight = Size,
        InputWidth = Size,
        Resize = 36,
        Mean = [0.5f, 0.45f, 0.4f],
        Std = [0.25f, 0.2f, 0.3f],
    };

    /// <summary>The metadata an onnx-trainer export carries.</summary>
    public static Dictionary<string, string> Metadata()
    {
        var metadata = Preprocessing.ToMetadata().ToDictionary(kv => kv.Key, kv => kv.Value);
        metadata[ClassifierMetadata.Labels] = ClassifierMetadata.FormatLabels(Labels);
        metadata[ClassifierMetadata.Recipe] = "name: tiny\n";
        metadata[ClassifierMetadata.Metrics] = "{}";
        return metadata;
    }

    /// <param name="withProbabilities">False writes only a <c>logits</c> output, as a plain framework export would.</param>
    /// <param name="fixedBatch">A fixed batch dimension instead of the symbolic one, when positive.</param>
    public static byte[] Create(IReadOnlyDictionary<string, string>? metadata, bool withProbabilities = true, int fixedBatch = 0)
    {
        const int features = 3 * Size * Size;
        var random = new Random(42);
        var weights = new float[Labels.Count * features];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(random.NextDouble() - 0.5) * 0.2f;
        }

        var graph = new ProtoWriter();
        graph.Message(1, n => n.String(1, "input").String(2, "flat").String(3, "flatten").String(4, "Flatten"));
        graph.Message(1, n => n.String(1, "flat").String(1, "weight").String(1, "bias").String(2, "logits").String(3, "gemm").String(4, "Gemm")
            .Message(5, a => a.String(1, "transB").Varint(3, 1).Varint(20, 2)));
        if (withProbabilities)
        {
            graph.Message(1, n => n.String(1, "logits").String(2, "probabilities").String(3, "softmax").String(4, "Softmax")
                .Message(5, a => a.String(1, "axis").Varint(3, 1).Varint(20, 2)));
        }

        graph.String(2, "tiny");
        graph.Message(5, t => FloatTensor(t, "weight", [Labels.Count, features], weights));
        graph.Message(5, t => FloatTensor(t, "bias", [Labels.Count], new float[Labels.Count]));
        graph.Message(11, v => ValueInfo(v, "input", [fixedBatch > 0 ? fixedBatch : -1, 3, Size, Size]));
        graph.Message(12, v => ValueInfo(v, "logits", [fixedBatch > 0 ? fixedBatch : -1, Labels.Count]));
        if (withProbabilities)
        {
            graph.Message(12, v => ValueInfo(v, "probabilities", [fixedBatch > 0 ? fixedBatch : -1, Labels.Count]));
        }

        var model = new ProtoWriter().Varint(1, 8).String(2, "tests");
        model.Message(7, graph);
        model.Message(8, o => o.String(1, "").Varint(2, 17));
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.Message(14, e => e.String(1, key).String(2, value));
        }

        return model.ToArray();
    }

    private static void FloatTensor(ProtoWriter tensor, string name, long[] dims, float[] values)
    {
        foreach (var dim in dims)
        {
            tensor.Varint(1, (ulong)dim);
        }

        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        tensor.Varint(2, 1).String(8, name).Bytes(9, raw);
    }

    /// <summary>A float tensor value; a negative dimension is the symbolic batch "N".</summary>
    private static void ValueInfo(ProtoWriter value, string name, long[] dims) =>
        value.String(1, name).Message(2, type => type.Message(1, tensor => tensor.Varint(1, 1).Message(2, shape =>
        {
            foreach (var dim in dims)
            {
                shape.Message(1, d => _ = dim < 0 ? d.String(2, "N") : d.Varint(1, (ulong)dim));
            }
        })));

    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public ProtoWriter Varint(int field, ulong value)
        {
            WriteVarint(((ulong)field << 3) | 0);
            WriteVarint(value);
            return this;
        }

        public ProtoWriter Bytes(int field, byte[] bytes)
        {
            WriteVarint(((ulong)field << 3) | 2);
            WriteVarint((ulong)bytes.Length);
            _buffer.Write(bytes);
            return this;
        }

        public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public ProtoWriter Message(int field, Action<ProtoWriter> write)
        {
            var message = new ProtoWriter();
            write(message);
            return Message(field, message);
        }

        public byte[] ToArray() => _buffer.ToArray();

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _buffer.WriteByte((byte)value);
        }
    }
}
