using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;

namespace OnnxTrainer.Artifacts;

/// <summary>Where a recipe cuts the backbone: its detected classifier head, a named tensor, or a cut-point index from <c>inspect</c>.</summary>
public sealed record BackboneCut(string? TensorName = null, int? CutPointIndex = null)
{
    public static readonly BackboneCut Head = new();

    /// <summary>
    /// Cuts the graph (shapes must be inferred) and returns the features tensor the new head reads, with a note for
    /// the user when the cut is not what the recipe's words suggest (a backbone with no classifier kept whole).
    /// </summary>
    public (Value Features, string? Note) Apply(Graph graph)
    {
        if (TensorName is not null)
        {
            GraphCut.At(graph, TensorName);
            return (graph.Outputs[0], null);
        }
        if (CutPointIndex is int index)
        {
            var points = CutPoint.Find(graph);
            if (index < 0 || index >= points.Count)
                throw new GraphException($"cut point {index} does not exist; the backbone has {points.Count} (0..{points.Count - 1}, see 'onnx-trainer inspect')");
            GraphCut.At(graph, points[index].Value);
            return (points[index].Value, null);
        }
        var output = graph.Outputs[0];
        if (GraphCut.RemoveHead(graph) is not { } head)
            return (output, $"the backbone has no classifier and ends in features '{output.Name}' {output.Type}: cut: head keeps the whole graph");
        // A headless network ending in a 1x1 convolution, Relu and global pooling looks like SqueezeNet's classifier: say what went.
        var conv = head.Nodes.FirstOrDefault(n => n.OpType == "Conv");
        return (head.Features, conv is null ? null :
            $"cut: head removes the convolutional classifier '{conv.Name}' ({head.Classes} classes) and reads '{head.Features.Name}'; cut: \"{output.Name}\" keeps it");
    }

    public override string ToString() => TensorName ?? (CutPointIndex is int i ? $"cut point {i}" : "head");
}
