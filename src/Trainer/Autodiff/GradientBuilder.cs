using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff;

/// <summary>
/// Appends the backward graph of a scalar loss with respect to chosen parameters, using only
/// standard ONNX operators. Only nodes that lie between a parameter and the loss are visited;
/// gradients that fan out are summed; each parameter's gradient becomes a graph output under the name its caller gives.
/// </summary>
public static class GradientBuilder
{
    /// <summary>Ends the name prefix of the backward nodes built for a forward node or value (<c>conv1_grad/...</c>).</summary>
    public const string BackwardSuffix = "_grad";

    /// <summary>Builds the backward graph; returns the gradient outputs in the order of <paramref name="parameters"/>.</summary>
    /// <param name="gradientName">The output name of a parameter's gradient (the artifacts' contract: <c>&lt;param&gt;_grad</c>).</param>
    /// <param name="formulations">Where rules have a choice (default: <see cref="GradientFormulations.Cpu"/>).</param>
    public static IReadOnlyList<Value> Build(Graph graph, long opset, Value loss, IReadOnlyList<Value> parameters, Func<string, string> gradientName,
        GradientFormulations? formulations = null)
    {
        if (loss.Type?.Shape is not { } lossShape || lossShape.Any(d => d.Value != 1))
            throw new GraphException($"loss '{loss.Name}' must be a scalar with a known shape (got {loss.Type})");

        var dependsOnParameter = ForwardFromParameters(parameters);
        var reachesLoss = BackwardFromLoss(loss);
        var contributions = new Dictionary<Value, List<Value>>();
        var seed = new GraphBuilder(graph, opset, "loss" + BackwardSuffix);
        contributions[loss] = [seed.Constant(loss.Type.ElementType == DataType.Double
            ? Tensor.FromDoubles([.. lossShape.Select(d => d.Value!.Value)], [1.0])
            : Tensor.FromFloats([.. lossShape.Select(d => d.Value!.Value)], [1f]), "seed")];

        foreach (var node in graph.TopologicalOrder().Reverse())
        {
            if (!reachesLoss.Contains(node) || !node.Inputs.Any(i => i is not null && dependsOnParameter.Contains(i))) continue;
            var upstream = node.Outputs.Select(o => Accumulate(graph, opset, contributions, o)).ToList();
            if (upstream.All(g => g is null)) continue;
            if (!GradientRegistry.TryGet(node.OpType, out var rule) || node.Domain is not ("" or "ai.onnx"))
                throw new GraphException(
                    $"no gradient rule for op '{node.OpType}' (node '{node.Name}') on the path from the trainable parameters to the loss; " +
                    $"supported: {string.Join(", ", GradientRegistry.SupportedOps)}");

            var context = new GradientContext(graph, opset, node, upstream, dependsOnParameter.Contains, formulations ?? GradientFormulations.Cpu);
            var gradients = rule.Build(context);
            if (gradients.Length != node.Inputs.Count)
                throw new InvalidOperationException($"gradient rule for {node.OpType} returned {gradients.Length} gradients for {node.Inputs.Count} inputs");
            for (int i = 0; i < gradients.Length; i++)
            {
                if (gradients[i] is not { } g || node.Inputs[i] is not { } input || !dependsOnParameter.Contains(input)) continue;
                g.Type ??= input.Type;
                if (!contributions.TryGetValue(input, out var list)) contributions[input] = list = [];
                list.Add(g);
            }
        }

        // Rules may have moved forward work next to the backward work it shares (the Conv rule over small planes).
        graph.SortTopologically();
        var outputs = new List<Value>(parameters.Count);
        foreach (var parameter in parameters)
        {
            var gradient = Accumulate(graph, opset, contributions, parameter)
                ?? throw new GraphException($"trainable parameter '{parameter.Name}' does not affect the loss '{loss.Name}'");
            var named = graph.CreateValue(gradientName(parameter.Name), parameter.Type);
            graph.AddNodeWithOutputs("Identity", [gradient], [named], name: graph.FreshName(named.Name));
            graph.Outputs.Add(named);
            outputs.Add(named);
        }
        return outputs;
    }

    /// <summary>Sums the gradient contributions of a value once, caching the result.</summary>
    private static Value? Accumulate(Graph graph, long opset, Dictionary<Value, List<Value>> contributions, Value value)
    {
        if (!contributions.TryGetValue(value, out var list)) return null;
        if (list.Count > 1)
        {
            var sum = new GraphBuilder(graph, opset, value.Name + BackwardSuffix).Sum(list);
            sum.Type = value.Type;
            list.Clear();
            list.Add(sum);
        }
        return list[0];
    }

    /// <summary>Values computed from a parameter through differentiable, floating-point paths.</summary>
    internal static HashSet<Value> ForwardFromParameters(IReadOnlyList<Value> parameters)
    {
        var reached = new HashSet<Value>(parameters);
        var stack = new Stack<Value>(parameters);
        while (stack.Count > 0)
        {
            foreach (var user in stack.Pop().Users)
            {
                if (GradientRegistry.IsNonDifferentiable(user.OpType)) continue;
                foreach (var output in user.Outputs)
                    if (output.Type?.ElementType.IsFloatingPoint() != false && reached.Add(output)) stack.Push(output);
            }
        }
        return reached;
    }

    private static HashSet<Node> BackwardFromLoss(Value loss)
    {
        var reached = new HashSet<Node>();
        var stack = new Stack<Value>([loss]);
        while (stack.Count > 0)
        {
            if (stack.Pop().Producer is not { } node || !reached.Add(node)) continue;
            foreach (var input in node.Inputs)
                if (input is not null) stack.Push(input);
        }
        return reached;
    }
}
