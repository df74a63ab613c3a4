namespace OnnxTrainer.Ir.Shapes;

/// <summary>Unsqueeze: inserts unit axes at positions of the output (attribute before opset 13, input after).</summary>
internal sealed class UnsqueezeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(new TensorType(c.ElementType(0), Unsqueeze(c)));

    public SymbolicTensor? Evaluate(ShapeContext c) =>
        c.Data(0) is { } data && Unsqueeze(c) is { } dims ? data.WithDims(dims.Select(d => d.Value!.Value).ToArray()) : null;

    private static Dim[]? Unsqueeze(ShapeContext c)
    {
        if (c.Shape(0) is not { } x) return null;
        var axes = c.Opset >= 13 ? c.Ints(1) : c.Ints("axes");
        if (axes is null) return null;
        int rank = x.Count + axes.Count;
        var inserted = axes.Select(a => c.Axis(a, rank)).ToHashSet();
        if (inserted.Count != axes.Count) throw c.Error("axes repeat");
        var dims = new Dim[rank];
        for (int i = 0, j = 0; i < rank; i++) dims[i] = inserted.Contains(i) ? Dim.Known(1) : x[j++];
        return dims;
    }
}
