namespace OnnxTrainer.Ir.Shapes;

/// <summary>Flatten: [d0 ... dn] -> [d0*...*d(axis-1), d(axis)*...*dn].</summary>
internal sealed class FlattenRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, [Dim.Unknown, Dim.Unknown]));
        long axis = c.Int("axis", 1);
        if (axis < -x.Count || axis > x.Count) throw c.Error($"axis {axis} is out of range for rank {x.Count}");
        int split = (int)(axis < 0 ? axis + x.Count : axis);
        return c.Outputs(new TensorType(type, [DimMath.Product(x.Take(split)), DimMath.Product(x.Skip(split))]));
    }
}
