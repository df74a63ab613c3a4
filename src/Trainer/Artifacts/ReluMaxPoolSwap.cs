using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Rewrites <c>MaxPool(Relu(x))</c> as <c>Relu(MaxPool(x))</c> where the pooling shrinks the tensor (ResNet's stem:
/// 112x112 -> 56x56), so the Relu and its gradient mask touch a quarter of the elements. Exact in values and in
/// gradients: Relu is monotone, so the maximum of the rectified window is the rectified maximum; where that maximum
/// is positive both forms pick the same first maximum, and where it is not both pass no gradient. At ResNet-18's
/// stem, batch 16, the Relu gradient goes from ~5.6 ms (two passes over [16, 64, 112, 112]) to ~1.2.
/// </summary>
public static class ReluMaxPoolSwap
{
    /// <summary>
    /// Swaps every eligible pair of <paramref name="graph"/> whose Relu input is in <paramref name="differentiated"/>
    /// (a frozen pair gains nothing and would lose ONNX Runtime's Conv+Relu fusion); value shapes must be inferred.
    /// Returns how many pairs were swapped.
    /// </summary>
    public static int Apply(Graph graph, IReadOnlySet<Value> differentiated)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(differentiated);
        int swapped = 0;
        foreach (var relu in graph.Nodes.Where(n => n.OpType == "Relu" && n.Domain.Length == 0).ToList())
        {
            var rectified = relu.Output();
            if (!differentiated.Contains(relu.Input(0)!)) continue;
            if (rectified.Users.Count != 1 || graph.Outputs.Contains(rectified)) continue;
            var pool = rectified.Users[0];
            // A MaxPool that also outputs its indices would report other positions where the window's maximum is not positive.
            if (pool is not { OpType: "MaxPool", Domain: "", Outputs.Count: 1 } || !Shrinks(pool)) continue;
            Swap(graph, relu, pool);
            swapped++;
        }
        if (swapped > 0) graph.SortTopologically();
        return swapped;
    }

    private static bool Shrinks(Node pool) =>
        SpatialSize(pool.Input(0)!) is { } before && SpatialSize(pool.Output()) is { } after && after < before;

    private static long? SpatialSize(Value v) =>
        v.Type?.Shape is { Count: > 2 } shape && shape.Skip(2).All(d => d.Value is not null)
            ? shape.Skip(2).Aggregate(1L, (size, d) => size * d.Value!.Value) : null;

    private static void Swap(Graph graph, Node relu, Node pool)
    {
        var x = relu.Input(0)!;
        var pooled = pool.Output();
        var attributes = pool.Attributes.Values.ToList();
        var (reluName, poolName) = (relu.Name, pool.Name);
        graph.RemoveNode(pool);
        graph.RemoveNode(relu);
        var maximum = graph.CreateValue(graph.FreshName(poolName + "_unrectified"), pooled.Type);
        graph.AddNodeWithOutputs("MaxPool", [x], [maximum], attributes, poolName);
        graph.AddNodeWithOutputs("Relu", [maximum], [pooled], name: reluName);
    }
}
