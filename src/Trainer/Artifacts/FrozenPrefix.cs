using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// The split of a forward classifier into the part that no trainable parameter influences (the frozen
/// prefix, run forward only, and cacheable when its input is deterministic) and the trainable suffix that
/// the training graph is built from. The boundary is the single tensor through which the frozen part
/// feeds the trainable part; constants (initializers, Constant nodes such as ReLU6 bounds) go to both sides.
/// Inputs after the image (the loop's dropout masks) vary per step like the trainable parameters, so what they
/// reach belongs to the suffix, whose inputs are the boundary tensor and then them.
/// </summary>
public sealed record FrozenPrefix(Model Prefix, Model Suffix, string Boundary)
{
    /// <summary>The split, or null when the trainable part starts at the input or is fed by more than one frozen tensor.</summary>
    public static FrozenPrefix? Split(Model forward, IReadOnlyCollection<string> trainable)
    {
        var graph = forward.Graph;
        var input = graph.Inputs[0];
        var influenced = Influenced(graph, [.. trainable, .. graph.Inputs.Skip(1).Select(i => i.Name)]);
        var frontier = graph.Values
            .Where(v => !influenced.Contains(v) && !v.IsInitializer && v.Producer?.OpType != "Constant" && v.Type?.ElementType.IsFloatingPoint() == true
                && v.Users.Any(u => u.Outputs.Any(influenced.Contains)))
            .ToList();
        if (frontier.Count != 1 || frontier[0] == input || frontier[0].Producer is null) return null;
        string boundary = frontier[0].Name;

        var prefix = forward.Clone();
        prefix.Graph.Outputs.Clear();
        prefix.Graph.Outputs.Add(prefix.Graph[boundary]);
        prefix.Graph.Inputs.RemoveRange(1, prefix.Graph.Inputs.Count - 1);
        prefix.Graph.RemoveDeadNodes();

        var suffix = forward.Clone();
        var suffixGraph = suffix.Graph;
        var oldInput = suffixGraph.Inputs[0];
        var boundaryValue = suffixGraph[boundary];
        suffixGraph.DetachAsInput(boundaryValue);
        suffixGraph.Inputs.Remove(oldInput);
        suffixGraph.Inputs.Remove(boundaryValue);
        suffixGraph.Inputs.Insert(0, boundaryValue); // first, where the image was; the masks follow
        suffixGraph.RemoveDeadNodes();
        if (oldInput.Users.Count > 0)
            throw new GraphException($"the trainable part reads the image input '{oldInput.Name}' directly besides '{boundary}'");
        return new FrozenPrefix(prefix, suffix, boundary);
    }

    /// <summary>Values that depend on a trainable parameter.</summary>
    internal static HashSet<Value> Influenced(Graph graph, IReadOnlyCollection<string> trainable)
    {
        var reached = new HashSet<Value>(trainable.Select(name => graph[name]));
        var stack = new Stack<Value>(reached);
        while (stack.Count > 0)
            foreach (var user in stack.Pop().Users)
                foreach (var output in user.Outputs)
                    if (reached.Add(output)) stack.Push(output);
        return reached;
    }
}
