using OnnxTrainer.Onnx.Protos;

namespace OnnxTrainer.Ir;

/// <summary>A model: the main graph plus the header fields and metadata of the ONNX file.</summary>
public sealed class Model
{
    public long IrVersion { get; set; } = 8;
    /// <summary>Operator set versions by domain ("" is ai.onnx).</summary>
    public Dictionary<string, long> Opsets { get; } = new(StringComparer.Ordinal) { [""] = 17 };
    public string ProducerName { get; set; } = "onnx-trainer";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    /// <summary>metadata_props in file order.</summary>
    public List<KeyValuePair<string, string>> Metadata { get; } = [];
    /// <summary>Model-local functions, kept as read.</summary>
    public List<FunctionProto> Functions { get; } = [];
    public Graph Graph { get; set; } = new();

    public long OpsetVersion => Opsets.TryGetValue("", out var v) ? v : Opsets.GetValueOrDefault("ai.onnx", 1);

    /// <summary>The metadata as a dictionary; where a key repeats, its last value counts (as ONNX Runtime reads it).</summary>
    public IReadOnlyDictionary<string, string> MetadataByKey() => Metadata.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    public string? GetMetadata(string key) => MetadataByKey().GetValueOrDefault(key);

    /// <summary>A copy that passes can edit while the caller keeps this model (see <see cref="Ir.Graph.Clone"/>: weights are shared, not copied).</summary>
    public Model Clone()
    {
        var copy = new Model
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = ProducerVersion,
            Domain = Domain,
            ModelVersion = ModelVersion,
            DocString = DocString,
            Graph = Graph.Clone(),
        };
        copy.Opsets.Clear();
        foreach (var (domain, version) in Opsets) copy.Opsets.Add(domain, version);
        copy.Metadata.AddRange(Metadata);
        copy.Functions.AddRange(Functions);
        return copy;
    }

    public void SetMetadata(string key, string value)
    {
        Metadata.RemoveAll(kv => kv.Key == key);
        Metadata.Add(new(key, value));
    }
}
