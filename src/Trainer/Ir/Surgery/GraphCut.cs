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

    /// <summary>
    /// Drops the detected classifier head and returns it; the graph's output is then the features it read. A graph
    /// with no classifier that already ends in features (pooled [N, C, 1, 1] or [N, C], or a feature map) is kept
    /// whole and null is returned. Anything else is an error.
    /// </summary>
    public static ClassifierHead? RemoveHead(Graph graph)
    {
        if (ClassifierHead.Find(graph) is { } head)
        {
            At(graph, head.Features);
            return head;
        }
        if (graph.Outputs is [{ Type: { Rank: 2 or 4 } type }] && type.ElementType.IsFloatingPoint())
            return null;
        throw new GraphException($"graph '{graph.Name}' ends in neither a classifier (Gemm, MatMul+Add, or Conv + global average pooling) " +
            "nor features ([N, C] or [N, C, H, W]); name a tensor to cut at instead");
    }
}