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
        if (GraphCut.RemoveHead(graph) is not null) return (graph.Outputs[0], null);
        var features = graph.Outputs[0];
        return (features, $"the backbone has no classifier and ends in features '{features.Name}' {features.Type}: cut: head keeps the whole graph");
    }

    public override string ToString() => TensorName ?? (CutPointIndex is int i ? $"cut point {i}" : "head");
}
