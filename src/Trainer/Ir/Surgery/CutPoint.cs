namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// A tensor through which all data flows from the input to the output: cutting the graph there keeps
/// everything before it and nothing after. Block boundaries of a backbone are cut points.
/// </summary>
public sealed record CutPoint(int Index, Value Value, Node Producer)
{
    /// <summary>
    /// Cut points in topological order. A node's single float output is one when no activation produced
    /// earlier is still read after that node (skip connections keep the inside of a residual block out).
    /// Integer tensors (shape arithmetic) and constants are not data flow and are ignored.
    /// </summary>
    public static IReadOnlyList<CutPoint> Find(Graph graph)
    {
        var order = graph.TopologicalOrder();
        var position = new Dictionary<Node, int>(order.Count);
        for (int i = 0; i < order.Count; i++) position[order[i]] = i;
        var outputs = graph.Outputs.ToHashSet();

        int LastUse(Value v) => outputs.Contains(v) ? int.MaxValue : v.Users.Count == 0 ? -1 : v.Users.Max(u => position[u]);

        var data = DataValues(graph);
        bool IsData(Value v) => data.Contains(v);
        int reach = graph.Inputs.Where(IsData).Select(LastUse).DefaultIfEmpty(-1).Max();
        var points = new List<CutPoint>();
        for (int i = 0; i < order.Count; i++)
        {
            var node = order[i];
            var produced = node.Outputs.Where(IsData).ToList();
            if (reach <= i && produced.Count == 1 && node.Outputs.Count(o => o.Users.Count > 0 || outputs.Contains(o)) == 1
                && produced[0].Type?.Rank >= 2 && !outputs.Contains(produced[0]))
                points.Add(new CutPoint(points.Count, produced[0], node));
            foreach (var output in produced) reach = Math.Max(reach, LastUse(output));
        }
        return points;
    }

    /// <summary>Floating-point values computed from a graph input (not constants, not shape arithmetic).</summary>
    private static HashSet<Value> DataValues(Graph graph)
    {
        static bool Float(Value v) => v.Type?.ElementType.IsFloatingPoint() != false;
        var data = graph.Inputs.Where(Float).ToHashSet();
        var stack = new Stack<Value>(data);
        while (stack.Count > 0)
            foreach (var user in stack.Pop().Users)
                foreach (var output in user.Outputs)
                    if (Float(output) && data.Add(output)) stack.Push(output);
        return data;
    }
}
