namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// The Reduce* family. Axes are an attribute until the opset where they became an input (13 for
/// ReduceSum, 18 for the others); no axes means all, unless noop_with_empty_axes.
/// </summary>
internal sealed class ReduceRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        bool keepDims = c.Int("keepdims", 1) != 0;
        bool axesAsInput = c.Opset >= (c.Node.OpType == "ReduceSum" ? 13 : 18);
        IReadOnlyList<long>? axes = axesAsInput ? (c.Has(1) ? c.Ints(1) : []) : c.Ints("axes") ?? [];
        if (axes is null) // an axes input whose values are not known
            return c.Outputs(new TensorType(type, keepDims ? Enumerable.Repeat(Dim.Unknown, x.Count).ToArray() : null));
        if (axes.Count == 0)
        {
            if (c.Int("noop_with_empty_axes", 0) != 0) return c.Outputs(c.Type(0));
            axes = Enumerable.Range(0, x.Count).Select(i => (long)i).ToArray();
        }
        var reduced = axes.Select(a => c.Axis(a, x.Count)).ToHashSet();
        var dims = new List<Dim>();
        for (int i = 0; i < x.Count; i++)
            if (!reduced.Contains(i)) dims.Add(x[i]);
            else if (keepDims) dims.Add(Dim.Known(1));
        return c.Outputs(new TensorType(type, dims));
    }
}
