namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// The classifier at the end of a backbone, with anything trivially attached after it (Identity, Softmax,
/// Flatten/Reshape/Squeeze, Dropout): either a linear layer (Gemm, or MatMul followed by a bias Add) or a
/// convolutional classifier (SqueezeNet's Conv -> [Relu] -> global average pooling). A Dropout or Identity
/// that only feeds the classifier belongs to it. <see cref="Features"/> is the tensor it reads: what a new
/// head is fed.
/// </summary>
public sealed record ClassifierHead(IReadOnlyList<Node> Nodes, Value Features, Value Logits, long? Classes)
{
    private static readonly HashSet<string> Trailing = ["Identity", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Squeeze", "Dropout"];

    /// <summary>What may sit between a convolutional classifier and its pooling.</summary>
    private static readonly HashSet<string> ConvActivations = ["Relu", "Identity", "Dropout"];

    /// <summary>What may sit between the features and the classifier, belonging to the classifier when it is their only reader.</summary>
    private static readonly HashSet<string> Leading = ["Dropout", "Identity"];

    /// <summary>Poolings that turn a convolutional classifier's map into one score per class.</summary>
    private static readonly HashSet<string> GlobalPools = ["GlobalAveragePool", "AveragePool", "ReduceMean"];

    /// <summary>Finds the head that produces the graph's single (or first) output, or null when it does not end in a classifier.</summary>
    public static ClassifierHead? Find(Graph graph)
    {
        if (graph.Outputs.Count == 0) return null;
        var logits = graph.Outputs[0];
        var nodes = new List<Node>();
        var value = WalkBack(logits, Trailing, nodes);
        var producer = value.Producer;
        Node? classifier = null;
        if (producer?.OpType == "Gemm" || producer?.OpType == "MatMul" && producer.Input(1)?.IsInitializer == true)
            classifier = producer;
        else if (producer?.OpType == "Add" && LinearOf(producer) is { } matmul)
        {
            nodes.Add(producer);
            classifier = matmul;
        }
        else if (producer is not null && GlobalPools.Contains(producer.OpType) && IsGlobal(producer) && producer.Input(0) is { } scores)
        {
            nodes.Add(producer);
            var map = WalkBack(scores, ConvActivations, nodes);
            if (map.Producer is { OpType: "Conv" } conv) classifier = conv;
        }
        if (classifier is null || classifier.Input(1)?.IsInitializer != true || classifier.Input(0) is not { } read) return null;
        nodes.Add(classifier);
        var features = WalkBack(read, Leading, nodes, soleReader: true);
        nodes.Reverse();
        long? classes = classifier.OpType == "Conv" ? classifier.Input(1)!.Initializer!.Dims.FirstOrDefault() : ClassesOf(logits);
        return new ClassifierHead(nodes, features, logits, classes);
    }

    /// <summary>Walks from <paramref name="value"/> towards the input over single-input nodes of the given types, collecting them.</summary>
    private static Value WalkBack(Value value, IReadOnlySet<string> over, List<Node> collected, bool soleReader = false)
    {
        while (value.Producer is { } node && over.Contains(node.OpType) && node.Input(0) is { } input && (!soleReader || value.Users.Count == 1))
        {
            collected.Add(node);
            value = input;
        }
        return value;
    }

    /// <summary>True when a pooling reduces every spatial position to one (a global average, whatever its spelling).</summary>
    private static bool IsGlobal(Node pool) => pool.OpType switch
    {
        "GlobalAveragePool" => true,
        "AveragePool" => pool.Output().Type?.Shape is { Count: > 2 } shape && shape.Skip(2).All(d => d.Value == 1),
        _ => pool.Output().Type?.Shape is { Count: > 2 } reduced && reduced.Skip(2).All(d => d.Value == 1) && pool.Input(0)?.Type?.Rank == reduced.Count
             || pool.Output().Type?.Rank == 2 && pool.Input(0)?.Type?.Rank == 4,
    };

    private static long? ClassesOf(Value logits) => logits.Type?.Shape is { Count: > 0 } shape ? shape[^1].Value : null;

    /// <summary>The MatMul with a constant weight feeding a bias Add, if the Add is one.</summary>
    private static Node? LinearOf(Node add)
    {
        foreach (var (data, bias) in new[] { (0, 1), (1, 0) })
            if (add.Input(data)?.Producer is { OpType: "MatMul" } matmul && matmul.Input(1)?.IsInitializer == true && add.Input(bias)?.IsInitializer == true)
                return matmul;
        return null;
    }
}
