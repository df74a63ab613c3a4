namespace OnnxTrainer.Ir.Shapes;

/// <summary>What a rule may look at: the node, its input types, known input values, and the opset.</summary>
internal sealed class ShapeContext(Node node, long opset, Dictionary<Value, SymbolicTensor> data)
{
    public Node Node { get; } = node;
    public long Opset { get; } = opset;

    public int InputCount => Node.Inputs.Count;
    public int OutputCount => Node.Outputs.Count;

    /// <summary>Whether input i is present (not omitted).</summary>
    public bool Has(int i) => Node.Input(i) is not null;

    public TensorType? Type(int i) => Node.Input(i)?.Type;

    public DataType ElementType(int i) => Type(i)?.ElementType ?? DataType.Undefined;

    /// <summary>Input i's shape; null when absent or of unknown rank.</summary>
    public IReadOnlyList<Dim>? Shape(int i) => Type(i)?.Shape;

    /// <summary>Input i's value when it is a small integer tensor (initializer, Constant or computed).</summary>
    public SymbolicTensor? Data(int i)
    {
        if (Node.Input(i) is not { } value) return null;
        if (data.TryGetValue(value, out var known)) return known;
        if (value.Initializer is null || SymbolicTensor.FromTensor(value.Initializer) is not { } constant) return null;
        data[value] = constant;
        return constant;
    }

    /// <summary>Input i's integer values when all are known.</summary>
    public long[]? Ints(int i) => Data(i)?.KnownValues;

    /// <summary>Input i as a constant of any element type (for float scalars such as Range bounds).</summary>
    public Tensor? Constant(int i)
    {
        if (Node.Input(i) is not { } value) return null;
        if (value.Initializer is not null) return value.Initializer;
        if (value.Producer is { OpType: "Constant" } producer) return ConstantRule.ValueOf(producer);
        return Data(i)?.ToTensor();
    }

    /// <summary>An Ints attribute, or an Int attribute read as one element.</summary>
    public IReadOnlyList<long>? Ints(string attribute) =>
        Node.Attributes.TryGetValue(attribute, out var a) ? (a.Kind == AttributeKind.Int ? [a.I] : a.Ints) : null;

    public long Int(string attribute, long fallback) => Node.Int(attribute, fallback);

    public string String(string attribute, string fallback) => Node.String(attribute, fallback);

    /// <summary>An axis in [0, rank), accepting negative axes counted from the end.</summary>
    public int Axis(long axis, int rank)
    {
        if (axis < -rank || axis >= rank) throw Error($"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>Output types all equal to <paramref name="type"/>, sized to the node's outputs.</summary>
    public TensorType?[] Outputs(params TensorType?[] types)
    {
        var result = new TensorType?[OutputCount];
        for (int i = 0; i < result.Length && i < types.Length; i++) result[i] = types[i];
        return result;
    }

    public GraphException Error(string message) => new($"node '{Node.Name}' ({Node.OpType}): {message}");
}
