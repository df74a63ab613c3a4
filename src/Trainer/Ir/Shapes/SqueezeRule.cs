namespace OnnxTrainer.Ir.Shapes;

/// <summary>Squeeze: removes the given unit axes (attribute before opset 13, input after), or every unit axis.</summary>
internal sealed class SqueezeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(new TensorType(c.ElementType(0), Squeeze(c)));

    public SymbolicTensor? Evaluate(ShapeContext c) =>
        c.Data(0) is { } data && Squeeze(c) is { } dims ? data.WithDims(dims.Select(d => d.Value!.Value).ToArray()) : null;

    private static Dim[]? Squeeze(ShapeContext c)
    {
        if (c.Shape(0) is not { } x) return null;
        IReadOnlyList<long>? axes = c.Opset >= 13 ? (c.Has(1) ? c.Ints(1) : []) : c.Ints("axes") ?? [];
        if (axes is null) return null;
        if (axes.Count == 0)
            // Only known unit axes can be removed; a symbolic one might be 1 too, so the rank is unknown.
            return x.All(d => d.IsKnown) ? x.Where(d => d.Value != 1).ToArray() : null;
        var removed = axes.Select(a => c.Axis(a, x.Count)).ToHashSet();
        foreach (var a in removed)
            if (x[a].IsKnown && x[a].Value != 1) throw c.Error($"cannot squeeze axis {a} of size {x[a]}");
        return x.Where((_, i) => !removed.Contains(i)).ToArray();
    }
}
