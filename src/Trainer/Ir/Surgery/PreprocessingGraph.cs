namespace OnnxTrainer.Ir.Surgery;

/// <summary>
/// Puts a model's own preprocessing graph (ML.NET's <c>ResNetPreprocess.onnx</c>: RGB to BGR, minus a mean image)
/// in front of its backbone, so that the graph the trainer cuts, trains and exports reads what the preprocessing
/// graph reads. Its nodes and initializers are copied under the prefix <see cref="Prefix"/>; they stay frozen.
/// </summary>
public static class PreprocessingGraph
{
    public const string Prefix = "preprocess/";

    /// <summary>
    /// Feeds <paramref name="backbone"/>'s input from <paramref name="preprocess"/>'s output; the graph's input keeps
    /// its name and takes the preprocessing graph's input type. Returns the names of the initializers brought in.
    /// </summary>
    public static IReadOnlyList<string> Prepend(Model backbone, Model preprocess)
    {
        var graph = backbone.Graph;
        var source = preprocess.Graph;
        // Files of IR version < 4 also list their initializers among the inputs.
        var sourceInputs = source.Inputs.Where(v => !v.IsInitializer).ToList();
        var inputs = graph.Inputs.Where(v => !v.IsInitializer).ToList();
        if (sourceInputs.Count != 1 || source.Outputs.Count != 1)
            throw new GraphException($"a preprocessing graph has one input and one output; this one has {sourceInputs.Count} and {source.Outputs.Count}");
        if (inputs.Count != 1)
            throw new GraphException($"a backbone has one image input; this one has {inputs.Count}");
        if (preprocess.OpsetVersion != backbone.OpsetVersion)
            throw new GraphException($"the preprocessing graph uses opset {preprocess.OpsetVersion} and the backbone opset {backbone.OpsetVersion}; they must agree");
        if (source.Nodes.FirstOrDefault(n => n.Domain.Length != 0 && !backbone.Opsets.ContainsKey(n.Domain)) is { } foreign)
            throw new GraphException($"the preprocessing graph's {foreign} is in domain '{foreign.Domain}', which the backbone does not import");
        var (sourceInput, sourceOutput) = (sourceInputs[0], source.Outputs[0]);
        if (sourceOutput.Producer is null)
            throw new GraphException($"the preprocessing graph computes nothing: its output '{sourceOutput.Name}' is not produced by a node");
        var input = inputs[0];
        CheckShapesAgree(sourceOutput.Type, input.Type);

        // The backbone's readers of its input read the preprocessing output instead; the input value itself becomes
        // the preprocessing graph's input, so its name (and anything keyed by it) stays.
        var bridge = graph.CreateValue(graph.FreshName(Prefix + sourceOutput.Name), sourceOutput.Type);
        graph.ReplaceAllUsesWith(input, bridge);
        input.Type = sourceInput.Type;
        var copies = new Dictionary<Value, Value> { [sourceInput] = input, [sourceOutput] = bridge };
        var initializers = new List<string>();
        Value Copy(Value value)
        {
            if (copies.TryGetValue(value, out var copy)) return copy;
            var name = graph.FreshName(Prefix + value.Name);
            if (value.Initializer is { } data)
            {
                copy = graph.AddInitializer(name, data);
                initializers.Add(name);
            }
            else
            {
                copy = graph.CreateValue(name, value.Type);
            }
            return copies[value] = copy;
        }

        foreach (var node in source.TopologicalOrder())
        {
            var nodeInputs = node.Inputs.Select(i => i is null ? null : Copy(i)).ToList();
            graph.AddNodeWithOutputs(node.OpType, nodeInputs, [.. node.Outputs.Select(Copy)], node.Attributes.Values, Prefix + node.Name, node.Domain);
        }
        graph.SortTopologically();
        return initializers;
    }

    private static void CheckShapesAgree(TensorType? produced, TensorType? read)
    {
        if (produced?.Shape is not { } made || read?.Shape is not { } expected) return;
        bool differs = made.Count != expected.Count ||
                       made.Zip(expected).Skip(1).Any(d => d.First.Value is long a && d.Second.Value is long b && a != b);
        if (differs)
            throw new GraphException($"the preprocessing graph makes {produced} but the backbone reads {read}");
    }
}
