namespace OnnxTrainer.Ir.Shapes;

/// <summary>Pad: each axis grows by its begin and end pads (attribute before opset 11, input after; axes input from 18).</summary>
internal sealed class PadRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        var pads = c.Opset >= 11 ? c.Ints(1) : c.Ints(c.Opset >= 2 ? "pads" : "paddings");
        var axes = c.Opset >= 18 && c.Has(3) ? c.Ints(3) : Enumerable.Range(0, x.Count).Select(i => (long)i).ToArray();
        if (pads is null || axes is null) return c.Outputs(new TensorType(type, Enumerable.Repeat(Dim.Unknown, x.Count).ToArray()));
        if (pads.Count != 2 * axes.Length) throw c.Error($"pads has {pads.Count} entries for {axes.Length} axes");
        var dims = x.ToArray();
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = c.Axis(axes[i], x.Count);
            long grow = pads[i] + pads[i + axes.Length];
            dims[axis] = dims[axis].Value is long n ? Dim.Known(n + grow) : grow == 0 ? dims[axis] : Dim.Unknown;
        }
        return c.Outputs(new TensorType(type, dims));
    }
}
