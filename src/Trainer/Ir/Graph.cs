namespace OnnxTrainer.Ir;

/// <summary>
/// An editable ONNX graph: values by unique name, nodes, initializers, inputs and outputs.
/// All structural edits go through this class so that producer and user links stay consistent.
/// </summary>
public sealed class Graph
{
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, int> _nameCounters = new(StringComparer.Ordinal);

    public string Name { get; set; } = "graph";
    public string DocString { get; set; } = "";
    /// <summary>Nodes in insertion order (not necessarily topological; see <see cref="TopologicalOrder"/>).</summary>
    public IReadOnlyList<Node> Nodes => _nodes;
    public List<Value> Inputs { get; } = [];
    public List<Value> Outputs { get; } = [];
    public IEnumerable<Value> Initializers => _values.Values.Where(v => v.IsInitializer);
    public IEnumerable<Value> Values => _values.Values;

    public Value this[string name] => _values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"no value named '{name}' in graph '{Name}'");

    public bool TryGetValue(string name, out Value value) => _values.TryGetValue(name, out value!);

    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>A name not yet used by any value or node, derived from <paramref name="hint"/>.</summary>
    public string FreshName(string hint)
    {
        if (!_values.ContainsKey(hint) && !_nodeNames.Contains(hint)) return hint;
        _nameCounters.TryGetValue(hint, out int n);
        string candidate;
        do candidate = $"{hint}_{++n}"; while (_values.ContainsKey(candidate) || _nodeNames.Contains(candidate));
        _nameCounters[hint] = n;
        return candidate;
    }

    /// <summary>Creates a value with exactly this name; the name must be new.</summary>
    public Value CreateValue(string name, TensorType? type = null)
    {
        if (_values.ContainsKey(name)) throw new InvalidOperationException($"value name '{name}' is already used in graph '{Name}'");
        var value = new Value(name, type);
        _values.Add(name, value);
        return value;
    }

    public Value AddInput(string name, TensorType type)
    {
        var value = CreateValue(name, type);
        Inputs.Add(value);
        return value;
    }

    public Value AddInitializer(string name, Tensor data)
    {
        var value = CreateValue(name, data.Type);
        value.Initializer = data;
        return value;
    }

    /// <summary>Replaces an initializer's data (shape and type may change, e.g. re-initialized weights).</summary>
    public void SetInitializer(Value value, Tensor data)
    {
        if (!value.IsInitializer) throw new InvalidOperationException($"'{value.Name}' is not an initializer");
        value.Initializer = data;
        value.Type = data.Type;
    }

    /// <summary>Turns an initializer into a graph input of the same name and type (e.g. a trainable parameter).</summary>
    public void PromoteToInput(Value value)
    {
        if (!value.IsInitializer) throw new InvalidOperationException($"'{value.Name}' is not an initializer");
        value.Initializer = null;
        Inputs.Add(value);
    }

    /// <summary>Appends a node whose outputs are fresh values named after <paramref name="outputNames"/>.</summary>
    public Node AddNode(string opType, IEnumerable<Value?> inputs, IEnumerable<string> outputNames, IEnumerable<Attribute>? attributes = null,
        string? name = null, string domain = "")
    {
        var outputs = outputNames.Select(n => CreateValue(FreshName(n))).ToList();
        return AddNodeWithOutputs(opType, inputs, outputs, attributes, name, domain);
    }

    /// <summary>Appends a node that produces the given existing (producer-less) values.</summary>
    public Node AddNodeWithOutputs(string opType, IEnumerable<Value?> inputs, IReadOnlyList<Value> outputs, IEnumerable<Attribute>? attributes = null,
        string? name = null, string domain = "")
    {
        string nodeName = name is null ? FreshName(opType) : name;
        if (name is not null && !_nodeNames.Add(nodeName))
            nodeName = FreshName(name);
        _nodeNames.Add(nodeName);
        foreach (var o in outputs)
            if (o.IsInitializer || Inputs.Contains(o))
                throw new InvalidOperationException($"node '{nodeName}' cannot produce '{o.Name}': it is a graph input or initializer");
        var node = new Node(nodeName, opType, domain, inputs, outputs, attributes ?? []);
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// Puts a node of another form in place of <paramref name="node"/>, under its name: the new node produces
    /// <paramref name="outputs"/> (a subset of the old node's outputs, in any order), and old outputs it drops must be unused.
    /// </summary>
    public Node ReplaceNode(Node node, string opType, IEnumerable<Value?> inputs, IReadOnlyList<Value> outputs, IEnumerable<Attribute> attributes)
    {
        foreach (var output in outputs)
            if (!node.Outputs.Contains(output)) throw new InvalidOperationException($"'{output.Name}' is not an output of node '{node.Name}'");
        foreach (var dropped in node.Outputs.Except(outputs))
            if (dropped.Users.Count > 0 || Outputs.Contains(dropped))
                throw new GraphException($"node '{node.Name}' ({node.OpType}): output '{dropped.Name}' is still in use");
        node.Detach();
        _nodes.Remove(node);
        _nodeNames.Remove(node.Name);
        foreach (var dropped in node.Outputs.Except(outputs)) _values.Remove(dropped.Name);
        var replacement = AddNodeWithOutputs(opType, inputs, outputs, attributes, node.Name, node.Domain);
        replacement.DocString = node.DocString;
        return replacement;
    }

    /// <summary>Gives an existing node one more output, a fresh value named after <paramref name="hint"/> (e.g. an optional output it did not produce yet).</summary>
    public Value AddNodeOutput(Node node, string hint, TensorType? type = null)
    {
        var output = CreateValue(FreshName(hint), type);
        node.AppendOutput(output);
        return output;
    }

    /// <summary>Makes every reader of <paramref name="old"/> (nodes and graph outputs) read <paramref name="replacement"/> instead.</summary>
    public void ReplaceAllUsesWith(Value old, Value replacement)
    {
        if (ReferenceEquals(old, replacement)) return;
        foreach (var user in old.Users.Distinct().ToList())
            for (int i = 0; i < user.Inputs.Count; i++)
                if (ReferenceEquals(user.Inputs[i], old)) user.SetInput(i, replacement);
        for (int i = 0; i < Outputs.Count; i++)
            if (ReferenceEquals(Outputs[i], old)) Outputs[i] = replacement;
    }

    public void SetNodeInput(Node node, int index, Value? value) => node.SetInput(index, value);

    /// <summary>
    /// Turns a computed value into a graph input: its producer is removed (its other outputs must be unused),
    /// so whatever computed it can then be pruned. Used to split a graph at a tensor.
    /// </summary>
    public void DetachAsInput(Value value)
    {
        if (value.Producer is not { } producer) throw new InvalidOperationException($"'{value.Name}' is not computed by a node");
        if (producer.Outputs.Any(o => o != value && (o.Users.Count > 0 || Outputs.Contains(o))))
            throw new GraphException($"cannot split at '{value.Name}': node '{producer.Name}' has other outputs in use");
        RemoveNode(producer);
        Inputs.Add(value);
    }

    /// <summary>Removes a node; its outputs lose their producer and are dropped when nothing reads them.</summary>
    public void RemoveNode(Node node)
    {
        node.Detach();
        _nodes.Remove(node);
        _nodeNames.Remove(node.Name);
        foreach (var output in node.Outputs)
            if (output.Users.Count == 0 && !Outputs.Contains(output)) _values.Remove(output.Name);
    }

    /// <summary>
    /// Removes nodes whose outputs reach no graph output, then initializers nobody reads.
    /// Returns the number of nodes removed (0 when nothing changed).
    /// </summary>
    public int RemoveDeadNodes()
    {
        var live = new HashSet<Node>();
        var stack = new Stack<Value>(Outputs);
        while (stack.Count > 0)
        {
            var producer = stack.Pop().Producer;
            if (producer is null || !live.Add(producer)) continue;
            foreach (var input in producer.Inputs)
                if (input is not null) stack.Push(input);
        }
        var dead = _nodes.Where(n => !live.Contains(n)).ToList();
        foreach (var node in dead) node.Detach();
        if (dead.Count > 0)
        {
            _nodes.RemoveAll(n => !live.Contains(n));
            foreach (var node in dead)
            {
                _nodeNames.Remove(node.Name);
                foreach (var output in node.Outputs) _values.Remove(output.Name);
            }
        }
        var outputs = Outputs.ToHashSet();
        foreach (var unused in _values.Values.Where(v => v.IsInitializer && v.Users.Count == 0 && !outputs.Contains(v)).ToList())
            _values.Remove(unused.Name);
        return dead.Count;
    }

    /// <summary>Nodes ordered so that every producer comes before its users; a cycle is an error naming a node on it.</summary>
    public IReadOnlyList<Node> TopologicalOrder()
    {
        var pending = new Dictionary<Node, int>(_nodes.Count);
        foreach (var node in _nodes)
            pending[node] = node.Inputs.Count(i => i?.Producer is not null);
        var ready = new Queue<Node>(_nodes.Where(n => pending[n] == 0));
        var order = new List<Node>(_nodes.Count);
        while (ready.Count > 0)
        {
            var node = ready.Dequeue();
            order.Add(node);
            foreach (var output in node.Outputs)
                foreach (var user in output.Users)
                    if (--pending[user] == 0) ready.Enqueue(user);
        }
        if (order.Count != _nodes.Count)
        {
            var stuck = _nodes.First(n => pending[n] > 0);
            throw new GraphException($"graph '{Name}' has a cycle through node '{stuck.Name}' ({stuck.OpType})");
        }
        return order;
    }

    /// <summary>Reorders the node list topologically (writers of ONNX files must emit nodes in that order).</summary>
    public void SortTopologically()
    {
        var order = TopologicalOrder();
        _nodes.Clear();
        _nodes.AddRange(order);
    }

    /// <summary>
    /// A structural copy that passes can edit while the original stays as it was: new values, nodes and attribute maps,
    /// the same order of values, nodes, inputs and outputs. Tensors (initializers, attribute tensors) are immutable and
    /// shared, so a copy of a 100 MB backbone costs its node count, not its weights.
    /// </summary>
    public Graph Clone()
    {
        var copy = new Graph { Name = Name, DocString = DocString };
        foreach (var value in _values.Values)
            copy._values.Add(value.Name, new Value(value.Name, value.Type) { Initializer = value.Initializer });
        Value? Map(Value? v) => v is null ? null : copy._values[v.Name];
        foreach (var node in _nodes)
        {
            var twin = new Node(node.Name, node.OpType, node.Domain, node.Inputs.Select(Map), node.Outputs.Select(o => Map(o)!), node.Attributes.Values)
            {
                DocString = node.DocString,
            };
            copy._nodes.Add(twin);
        }
        copy._nodeNames.UnionWith(_nodeNames);
        foreach (var (hint, count) in _nameCounters) copy._nameCounters.Add(hint, count);
        copy.Inputs.AddRange(Inputs.Select(v => Map(v)!));
        copy.Outputs.AddRange(Outputs.Select(v => Map(v)!));
        return copy;
    }

    internal void RenameValue(Value value, string newName)
    {
        if (_values.ContainsKey(newName)) throw new InvalidOperationException($"value name '{newName}' is already used");
        _values.Remove(value.Name);
        value.Name = newName;
        _values.Add(newName, value);
    }

    /// <summary>Gives a value a new unique name.</summary>
    public void Rename(Value value, string newName) => RenameValue(value, newName);

    /// <summary>Gives a value a contract name (such as "logits"), first renaming whatever value held it.</summary>
    public void RenameTo(Value value, string name)
    {
        if (value.Name == name) return;
        FreeName(name);
        RenameValue(value, name);
    }

    /// <summary>Renames the value holding <paramref name="name"/>, if any, so that a contract value can take the name.</summary>
    public void FreeName(string name)
    {
        if (TryGetValue(name, out var holder)) RenameValue(holder, FreshName(name + "_original"));
    }
}
