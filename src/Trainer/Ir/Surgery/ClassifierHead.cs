namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// The classifier at the end of a backbone: the last linear layer (Gemm, or MatMul followed by a bias
/// Add) that produces the logits, with anything trivially attached after it (Identity, Softmax,
/// Flatten/Reshape/Squeeze). <see cref="Features"/> is the tensor it reads: what a new head is fed.
/// </summary>
public sealed record ClassifierHead(IReadOnlyList<Node> Nodes, Value Features, Value Logits, long? Classes)
{
    private static readonly HashSet<string> Trailing = ["Identity", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Squeeze", "Dropout"];

    /// <summary>Finds the head that produces the graph's single (or first) output, or null when it does not end in a linear layer.</summary>
    public static ClassifierHead? Find(Graph graph)
    {
        if (graph.Outputs.Count == 0) return null;
        var logits = graph.Outputs[0];
        var nodes = new List<Node>();
        var value = logits;
        // Walk back over trailing no-ops to the linear layer.
        while (value.Producer is { } node && Trailing.Contains(node.OpType) && node.Input(0) is { } input)
        {
            nodes.Add(node);
            value = input;
        }
        var producer = value.Producer;
        Value? features = null;
        Value? weight = null;
        if (producer?.OpType == "Gemm")
        {
            nodes.Add(producer);
            features = producer.Input(0);
            weight = producer.Input(1);
        }
        else if (producer?.OpType == "Add" && LinearOf(producer) is { } matmul)
        {
            nodes.Add(producer);
            nodes.Add(matmul);
            features = matmul.Input(0);
            weight = matmul.Input(1);
        }
        else if (producer?.OpType == "MatMul" && producer.Input(1)?.IsInitializer == true)
        {
            nodes.Add(producer);
            features = producer.Input(0);
            weight = producer.Input(1);
        }
        if (features is null || weight?.IsInitializer != true) return null;
        nodes.Reverse();
        long? classes = logits.Type?.Shape is { Count: > 0 } shape ? shape[^1].Value : null;
        return new ClassifierHead(nodes, features, logits, classes);
    }

    /// <summary>The MatMul with a constant weight feeding a bias Add, if the Add is one.</summary>
    private static Node? LinearOf(Node add)
    {
        foreach (var (data, bias) in new[] { (0, 1), (1, 0) })
            if (add.Input(data)?.Producer is { OpType: "MatMul" } matmul && matmul.Input(1)?.IsInitializer == true && add.Input(bias)?.IsInitializer == true)
                return matmul;
        return null;
    }
}
