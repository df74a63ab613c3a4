using OnnxTrainer.Ir.Shapes;

namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// Gives a graph a symbolic batch dimension. Some exporters fix it (CNTK at 1) in the input and bake it into
/// Reshape targets ([1, 512]); training needs any batch size. The input's first dimension becomes the symbol,
/// a constant Reshape target whose first entry is the old batch, applied to a tensor that carries the batch,
/// copies it instead (0, or -1 with allowzero), and <see cref="Verify"/> names any node that still fixes it.
/// </summary>
public static class SymbolicBatch
{
    /// <summary>
    /// Makes <paramref name="input"/>'s first dimension <paramref name="symbol"/> and drops the declared types of
    /// computed values (they may carry the exporter's batch); shapes are inferred afresh. Returns the batch size the
    /// file fixed (null when it was symbolic already) and the Reshape nodes rewritten.
    /// </summary>
    public static (long? FixedBatch, IReadOnlyList<Node> Rewritten) Apply(Graph graph, long opset, Value input, string symbol)
    {
        if (input.Type?.Shape is not { Count: > 0 } shape) throw new GraphException($"the input '{input.Name}' has no shape");
        long? batch = shape[0].Value;
        input.Type = input.Type with { Shape = [Dim.Named(symbol), .. shape.Skip(1)] };
        ForgetComputedTypes(graph);
        var rewritten = new List<Node>();
        if (batch is not long fixedBatch) return (null, rewritten);
        // Each rewrite changes the shapes after it, so inference runs again before the next one is looked for.
        while (true)
        {
            ShapeInference.Run(graph, opset);
            var reshape = graph.TopologicalOrder().FirstOrDefault(n => !rewritten.Contains(n) && BakedTarget(n, symbol, fixedBatch) is not null);
            if (reshape is null) return (fixedBatch, rewritten);
            var target = BakedTarget(reshape, symbol, fixedBatch)!;
            var copy = graph.AddInitializer(graph.FreshName(reshape.Input(1)!.Name + "_symbolic_batch"), Tensor.Vector(target));
            graph.SetNodeInput(reshape, 1, copy);
            rewritten.Add(reshape);
            ForgetComputedTypes(graph);
        }
    }

    /// <summary>
    /// Fails, naming the node, when a computed float tensor loses the symbolic batch that its inputs carry (a Reshape,
    /// Expand or Tile with the exporter's batch in a constant): training with another batch size would be wrong there.
    /// Run on the graph as it will be trained (after the cut), with shapes inferred.
    /// </summary>
    public static void Verify(Graph graph, string symbol)
    {
        static bool Float(Value v) => v.Type?.ElementType.IsFloatingPoint() == true;
        foreach (var node in graph.TopologicalOrder())
        {
            if (!node.Inputs.Any(i => i is not null && Float(i) && i.Type!.Shape is [{ Symbol: var s }, ..] && s == symbol)) continue;
            foreach (var output in node.Outputs.Where(Float))
                if (output.Type!.Shape is [{ Value: long fixedBatch }, ..])
                    throw new GraphException($"node '{node.Name}' ({node.OpType}) fixes the batch at {fixedBatch} in '{output.Name}' {output.Type}; " +
                        "the batch dimension cannot be made symbolic safely: export the model with a dynamic batch");
        }
    }

    /// <summary>The Reshape's target with its first entry copying the batch, when that entry is the fixed batch and the data carries the batch; else null.</summary>
    private static long[]? BakedTarget(Node node, string symbol, long batch)
    {
        if (node.OpType != "Reshape" || node.Domain.Length != 0) return null;
        if (node.Input(0)?.Type?.Shape is not [{ Symbol: var s }, ..] || s != symbol) return null;
        if (node.Input(1) is not { } shape || ConstantRule.DataOf(shape) is not { ElementType: DataType.Int64 } data) return null;
        var target = data.ToInt64s();
        if (target.Length == 0 || target[0] != batch) return null;
        if (node.Int("allowzero", 0) == 0) target[0] = 0;
        else if (!target.Contains(-1)) target[0] = -1;
        else return null;
        return target;
    }

    private static void ForgetComputedTypes(Graph graph)
    {
        foreach (var value in graph.Values.Where(v => v.Producer is not null)) value.Type = null;
    }
}
