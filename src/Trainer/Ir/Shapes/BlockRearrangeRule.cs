namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// SpaceToDepth and DepthToSpace on [N, C, H, W]: blocks of blocksize x blocksize pixels move into the channels
/// (C * b * b, H / b, W / b) or back out of them (C / (b * b), H * b, W * b).
/// </summary>
internal sealed class BlockRearrangeRule(bool toDepth) : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        long block = c.Int("blocksize", 0);
        if (block < 1) throw c.Error("blocksize must be >= 1");
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        if (x.Count != 4) throw c.Error($"input must have rank 4 (got {x.Count})");
        long area = block * block;
        return toDepth
            ? c.Outputs(new TensorType(type, [x[0], DimMath.Product([x[1], area]), Divide(c, x[2], block), Divide(c, x[3], block)]))
            : c.Outputs(new TensorType(type, [x[0], Divide(c, x[1], area), DimMath.Product([x[2], block]), DimMath.Product([x[3], block])]));
    }

    private static Dim Divide(ShapeContext c, Dim d, long divisor) => d.Value switch
    {
        null => Dim.Unknown,
        { } v when v % divisor != 0 => throw c.Error($"dimension {v} is not divisible by {divisor}"),
        { } v => Dim.Known(v / divisor),
    };
}
