namespace OnnxTrainer.Ir;

/// <summary>One operator application. Omitted optional inputs are null.</summary>
public sealed class Node
{
    private readonly List<Value?> _inputs;
    private readonly List<Value> _outputs;

    public string Name { get; internal set; }
    public string OpType { get; }
    /// <summary>Operator domain; "" is the standard ai.onnx domain.</summary>
    public string Domain { get; }
    public Dictionary<string, Attribute> Attributes { get; }
    public string DocString { get; set; } = "";
    public IReadOnlyList<Value?> Inputs => _inputs;
    public IReadOnlyList<Value> Outputs => _outputs;

    internal Node(string name, string opType, string domain, IEnumerable<Value?> inputs, IEnumerable<Value> outputs, IEnumerable<Attribute> attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        _inputs = [.. inputs];
        _outputs = [.. outputs];
        Attributes = attributes.ToDictionary(a => a.Name);
        foreach (var input in _inputs) input?.AddUser(this);
        foreach (var output in _outputs)
        {
            if (output.Producer is not null)
                throw new InvalidOperationException($"value '{output.Name}' already has producer '{output.Producer.Name}'");
            output.Producer = this;
        }
    }

    /// <summary>Input i, or null when it is absent (omitted or beyond the list).</summary>
    public Value? Input(int i) => i < _inputs.Count ? _inputs[i] : null;

    public Value Output(int i = 0) => _outputs[i];

    internal void SetInput(int i, Value? value)
    {
        _inputs[i]?.RemoveUser(this);
        _inputs[i] = value;
        value?.AddUser(this);
    }

    internal void AppendOutput(Value output)
    {
        if (output.Producer is not null)
            throw new InvalidOperationException($"value '{output.Name}' already has producer '{output.Producer.Name}'");
        _outputs.Add(output);
        output.Producer = this;
    }

    internal void Detach()
    {
        foreach (var input in _inputs) input?.RemoveUser(this);
        foreach (var output in _outputs) output.Producer = null;
    }

    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? a.I : fallback;
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.F : fallback;
    public string String(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? a.S : fallback;
    public IReadOnlyList<long>? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;
    public IReadOnlyList<float>? Floats(string name) => Attributes.TryGetValue(name, out var a) ? a.Floats : null;
    public Tensor? TensorAttribute(string name) => Attributes.TryGetValue(name, out var a) ? a.T : null;

    public override string ToString() => $"{OpType} '{Name}'";
}
