using OnnxTrainer.Ir.Shapes;

namespace OnnxTrainer.Ir.Upgrade;

/// <summary>
/// What an opset adapter sees of one node: the node, the version it is brought to, and the graph-building
/// vocabulary (inherited from <see cref="GraphBuilder"/>, which emits the forms of that version) under the node's name.
/// </summary>
public sealed class AdapterContext : GraphBuilder
{
    private readonly Func<bool> _inferShapes;

    internal AdapterContext(Graph graph, Node node, long version, Func<bool> inferShapes) : base(graph, version, node.Name)
    {
        Node = node;
        _inferShapes = inferShapes;
    }

    /// <summary>The node being upgraded; after <see cref="Rewrite"/> it is the replacement.</summary>
    public Node Node { get; private set; }

    /// <summary>The opset the node is brought to (its form before was that of the version below).</summary>
    public long Version => Opset;

    public GraphException Error(string message) =>
        new($"node '{Node.Name}' ({Node.OpType}) at opset {Version - 1}: {message}");

    /// <summary>Removes an attribute and returns it; null when the node does not carry it.</summary>
    public Attribute? Take(string name) => Node.Attributes.Remove(name, out var attribute) ? attribute : null;

    /// <summary>Replaces the node by one of <paramref name="opType"/> with these inputs, the same outputs and its remaining attributes.</summary>
    public void Rewrite(string opType, IEnumerable<Value?> inputs) =>
        Node = Graph.ReplaceNode(Node, opType, inputs, Node.Outputs, Node.Attributes.Values.ToList());

    /// <summary>Replaces the node by the same operator with these inputs (an attribute that became an input).</summary>
    public void Rewrite(IEnumerable<Value?> inputs) => Rewrite(Node.OpType, inputs);

    /// <summary>Replaces the node by the same operator keeping only the first <paramref name="count"/> outputs; the others must be unused.</summary>
    public void KeepOutputs(int count)
    {
        if (Node.Outputs.Count <= count) return;
        var unusedFrom = Node.Outputs.Skip(count).FirstOrDefault(o => o.Users.Count > 0 || Graph.Outputs.Contains(o));
        if (unusedFrom is not null)
            throw Error($"output '{unusedFrom.Name}' is in use, and opset {Version} has no such output");
        Node = Graph.ReplaceNode(Node, Node.OpType, Node.Inputs, [.. Node.Outputs.Take(count)], Node.Attributes.Values.ToList());
    }

    /// <summary>Makes every reader of the node's output read <paramref name="replacement"/> and removes the node.</summary>
    public void ReplaceWith(Value replacement)
    {
        Graph.ReplaceAllUsesWith(Node.Output(), replacement);
        // A graph output keeps its name: the value computed in its place takes it over.
        string name = Node.Output().Name;
        Graph.RemoveNode(Node);
        if (!Graph.Contains(name)) Graph.Rename(replacement, name);
    }

    /// <summary>
    /// Puts what <paramref name="build"/> computes from <paramref name="value"/> between it and its readers (graph outputs
    /// included); the result takes over the value's name, so names that recipes and cut points use stay valid.
    /// </summary>
    public void InsertAfter(Value value, Func<Value, Value> build)
    {
        var readers = value.Users.Distinct().ToList();
        bool isOutput = Graph.Outputs.Contains(value);
        var result = build(value);
        foreach (var reader in readers)
            for (int i = 0; i < reader.Inputs.Count; i++)
                if (ReferenceEquals(reader.Inputs[i], value)) Graph.SetNodeInput(reader, i, result);
        if (isOutput)
            for (int i = 0; i < Graph.Outputs.Count; i++)
                if (ReferenceEquals(Graph.Outputs[i], value)) Graph.Outputs[i] = result;
        string name = value.Name;
        Graph.Rename(value, Graph.FreshName(name + "_before_upgrade"));
        Graph.Rename(result, name);
        (result.Type, value.Type) = (value.Type, null);
    }

    /// <summary>An int64 vector input made from an ints attribute.</summary>
    public Value IntsInput(IReadOnlyList<long> values) => Ints([.. values]);

    /// <summary>A scalar of the element type of <paramref name="like"/> (float when that is not known).</summary>
    public Value ScalarLike(double value, Value like)
    {
        var type = like.Type?.ElementType is DataType.Double ? DataType.Double : DataType.Float;
        if (like.Type?.ElementType is { } known && known is not (DataType.Float or DataType.Double or DataType.Undefined))
            throw Error($"'{like.Name}' is {known.OnnxName()}; only float and double tensors are upgraded here");
        return Scalar(value, type);
    }

    /// <summary>The rank of a value, from its declared type or from shape inference over the graph as it stands.</summary>
    public int RankOf(Value value)
    {
        if (value.Type?.Rank is int rank) return rank;
        if (_inferShapes() && value.Type?.Rank is int inferred) return inferred;
        throw Error($"the rank of '{value.Name}' is needed to upgrade this node and cannot be inferred");
    }
}
