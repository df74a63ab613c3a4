namespace OnnxTrainer.Ir.Shapes;

/// <summary>OneHot(indices, depth, values): indices' shape with a new axis of size depth, typed like values.</summary>
internal sealed class OneHotRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(2);
        if (c.Shape(0) is not { } indices) return c.Outputs(new TensorType(type, null));
        int axis = c.Axis(c.Int("axis", -1), indices.Count + 1);
        Dim depth = c.Constant(1) is { } d && d.ElementCount() == 1 ? Dim.Known((long)d.ToDoubles()[0]) : Dim.Unknown;
        return c.Outputs(new TensorType(type, [.. indices.Take(axis), depth, .. indices.Skip(axis)]));
    }
}
