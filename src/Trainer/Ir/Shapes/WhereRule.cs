namespace OnnxTrainer.Ir.Shapes;

/// <summary>Where(condition, x, y): broadcast of all three, typed like x.</summary>
internal sealed class WhereRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) =>
        c.Outputs(new TensorType(c.ElementType(1), DimMath.Broadcast(c, [c.Shape(0), c.Shape(1), c.Shape(2)])));

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (c.Data(0) is not { } condition || c.Data(1) is not { } x || c.Data(2) is not { } y) return null;
        return BroadcastRule.Map([condition, x, y], x.ElementType,
            a => a[0].Value is long pick ? (pick != 0 ? a[1] : a[2]) : default);
    }
}
