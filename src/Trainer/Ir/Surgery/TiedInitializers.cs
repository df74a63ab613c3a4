namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// Undoes the exporter's merging of equal initializers. torch.onnx.export keeps one copy of tensors with equal
/// values (freshly initialized BatchNorm scales of 1 and shifts of 0, zero biases, ConvNeXt layer scales) and
/// lets the other parameters read it through Identity nodes named after them. Trained as found, those separate
/// parameters would be tied into one; each Identity output becomes an initializer of its own, with the same
/// value and the Identity's output name (the parameter's name in PyTorch where the exporter kept it).
/// </summary>
public static class TiedInitializers
{
    /// <summary>Returns the number of initializers split off; 0 when nothing is tied.</summary>
    public static int Untie(Graph graph)
    {
        var outputs = graph.Outputs.ToHashSet();
        var ties = graph.Nodes
            .Where(n => n.OpType == "Identity" && n.Domain.Length == 0 && n.Input(0) is { IsInitializer: true } && !outputs.Contains(n.Output()))
            .ToList();
        foreach (var identity in ties)
        {
            var alias = identity.Output();
            var shared = identity.Input(0)!;
            var copy = graph.AddInitializer(graph.FreshName(alias.Name), shared.Initializer!);
            graph.ReplaceAllUsesWith(alias, copy);
            graph.RemoveNode(identity);
            graph.Rename(copy, alias.Name);
        }
        if (ties.Count > 0) graph.RemoveDeadNodes();
        return ties.Count;
    }
}
