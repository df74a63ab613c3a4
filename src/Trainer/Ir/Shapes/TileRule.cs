namespace OnnxTrainer.Ir.Shapes;

/// <summary>Tile: each axis is repeated repeats[i] times.</summary>
internal sealed class TileRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        if (c.Ints(1) is not { } repeats) return c.Outputs(new TensorType(type, Enumerable.Repeat(Dim.Unknown, x.Count).ToArray()));
        if (repeats.Length != x.Count) throw c.Error($"repeats has {repeats.Length} entries for rank {x.Count}");
        return c.Outputs(new TensorType(type, x.Select((d, i) => DimMath.Product([d, Dim.Known(repeats[i])])).ToArray()));
    }
}
