using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;

namespace OnnxTrainer.Artifacts;

/// <summary>Where a recipe cuts the backbone: its detected classifier head, a named tensor, or a cut-point index from <c>inspect</c>.</summary>
public sealed record BackboneCut(string? TensorName = null, int? CutPointIndex = null)
{
    public static readonly BackboneCut Head = new();

    /// <summary>Cuts the graph (shapes must be inferred) and returns the features tensor the new head reads.</summary>
    public Value Apply(Graph graph)
    {
        if (TensorName is not null)
        {
            GraphCut.At(graph, TensorName);
            return graph.Outputs[0];
        }
        if (CutPointIndex is int index)
        {
            var points = CutPoint.Find(graph);
            if (index < 0 || index >= points.Count)
                throw new GraphException($"cut point {index} does not exist; the backbone has {points.Count} (0..{points.Count - 1}, see 'onnx-trainer inspect')");
            GraphCut.At(graph, points[index].Value);
            return points[index].Value;
        }
        return GraphCut.RemoveHead(graph);
    }

    public override string ToString() => TensorName ?? (CutPointIndex is int i ? $"cut point {i}" : "head");
}
