using OnnxTrainer.Onnx.Protos;

namespace OnnxTrainer.Ir;

public enum AttributeKind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs, Other }

/// <summary>
/// A node attribute. Subgraphs and the rarely used kinds (sparse tensors, type protos) are kept as
/// their protobuf form so that a round trip preserves them; our passes never look inside.
/// </summary>
public sealed class Attribute
{
    public string Name { get; }
    public AttributeKind Kind { get; }
    public float F { get; init; }
    public long I { get; init; }
    public string S { get; init; } = "";
    public Tensor? T { get; init; }
    public IReadOnlyList<float> Floats { get; init; } = [];
    public IReadOnlyList<long> Ints { get; init; } = [];
    public IReadOnlyList<string> Strings { get; init; } = [];
    public IReadOnlyList<Tensor> Tensors { get; init; } = [];
    /// <summary>The protobuf form for kinds kept opaque (graphs, sparse tensors, types).</summary>
    public AttributeProto? Opaque { get; init; }

    public Attribute(string name, AttributeKind kind)
    {
        Name = name;
        Kind = kind;
    }

    public static Attribute Of(string name, long value) => new(name, AttributeKind.Int) { I = value };
    public static Attribute Of(string name, float value) => new(name, AttributeKind.Float) { F = value };
    public static Attribute Of(string name, string value) => new(name, AttributeKind.String) { S = value };
    public static Attribute Of(string name, Tensor value) => new(name, AttributeKind.Tensor) { T = value };
    public static Attribute Of(string name, IReadOnlyList<long> values) => new(name, AttributeKind.Ints) { Ints = values };
    public static Attribute Of(string name, IReadOnlyList<float> values) => new(name, AttributeKind.Floats) { Floats = values };

    public override string ToString() => Kind switch
    {
        AttributeKind.Int => $"{Name}={I}",
        AttributeKind.Float => $"{Name}={F}",
        AttributeKind.String => $"{Name}={S}",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        _ => $"{Name}:{Kind}",
    };
}
