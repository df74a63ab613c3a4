namespace OnnxTrainer.Ir;

/// <summary>
/// A named tensor in the graph. It has at most one producer: a node, or nothing when it is a graph
/// input or an initializer (<see cref="Initializer"/> set). Nodes register themselves as users.
/// </summary>
public sealed class Value
{
    private readonly List<Node> _users = [];

    public string Name { get; internal set; }
    public TensorType? Type { get; set; }
    public Node? Producer { get; internal set; }
    /// <summary>Constant data when the value is an initializer.</summary>
    public Tensor? Initializer { get; internal set; }
    /// <summary>Every node that reads this value, once per input slot.</summary>
    public IReadOnlyList<Node> Users => _users;

    internal Value(string name, TensorType? type)
    {
        Name = name;
        Type = type;
    }

    public bool IsInitializer => Initializer is not null;

    internal void AddUser(Node node) => _users.Add(node);
    internal void RemoveUser(Node node) => _users.Remove(node);

    public override string ToString() => Type is null ? Name : $"{Name}: {Type}";
}
