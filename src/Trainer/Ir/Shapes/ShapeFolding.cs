namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Replaces subgraphs that compute constant integer tensors (typically Shape -> Gather -> Unsqueeze
/// -> Concat feeding a Reshape) by initializers. Only small integer tensors are folded, never float
/// computations on weights. Runs shape inference, so every node output is typed afterwards.
/// </summary>
public static class ShapeFolding
{
    /// <summary>Returns the number of nodes removed; 0 when nothing could be folded.</summary>
    public static int Run(Graph graph, long opset)
    {
        var data = ShapeInference.Infer(graph, opset);
        var outputs = graph.Outputs.ToHashSet();
        // A node is folded when all its outputs are known; graph outputs keep their producer (and name).
        var order = graph.Nodes
            .Where(n => n.OpType != "Constant" && n.Outputs.All(o => !outputs.Contains(o) && data.TryGetValue(o, out var v) && v.IsFullyKnown))
            .ToList();
        var folded = order.ToHashSet();
        int replaced = 0;
        foreach (var node in order)
            foreach (var output in node.Outputs)
            {
                // Only the values read outside the folded region become initializers.
                if (output.Users.All(folded.Contains)) continue;
                var constant = graph.AddInitializer(graph.FreshName(output.Name), data[output].ToTensor()!);
                graph.ReplaceAllUsesWith(output, constant);
                replaced++;
            }
        return replaced == 0 ? 0 : graph.RemoveDeadNodes();
    }
}
