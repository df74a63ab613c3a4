namespace OnnxTrainer.Ir.Surgery;

/// <summary>Cuts a backbone for transfer learning: keeps what computes a chosen tensor and drops everything after it.</summary>
public static class GraphCut
{
    /// <summary>Makes <paramref name="value"/> the graph's only output and removes the nodes that no longer contribute.</summary>
    public static void At(Graph graph, Value value)
    {
        graph.Outputs.Clear();
        graph.Outputs.Add(value);
        graph.RemoveDeadNodes();
    }

    /// <summary>Truncates at the tensor with this name ("truncate" strategy); an unknown name is an error listing the cut points.</summary>
    public static void At(Graph graph, string tensorName)
    {
        if (!graph.TryGetValue(tensorName, out var value) || value.Producer is null)
            throw new GraphException($"no tensor named '{tensorName}' is computed in graph '{graph.Name}'; cut points: " +
                string.Join(", ", CutPoint.Find(graph).Select(p => p.Value.Name)));
        At(graph, value);
    }

    /// <summary>Drops the detected classifier head and returns the features tensor it read; an error when no head is found.</summary>
    public static Value RemoveHead(Graph graph)
    {
        var head = ClassifierHead.Find(graph)
            ?? throw new GraphException($"graph '{graph.Name}' does not end in a linear classifier (Gemm or MatMul+Add); name a tensor to cut at instead");
        At(graph, head.Features);
        return head.Features;
    }
}
