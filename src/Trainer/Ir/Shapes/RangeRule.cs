namespace OnnxTrainer.Ir.Shapes;

/// <summary>Range(start, limit, delta): max(ceil((limit - start) / delta), 0) elements.</summary>
internal sealed class RangeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Constant(0) is not { } start || c.Constant(1) is not { } limit || c.Constant(2) is not { } delta)
            return c.Outputs(new TensorType(type, [Dim.Unknown]));
        double step = delta.ToDoubles()[0];
        if (step == 0) throw c.Error("delta cannot be 0");
        double count = Math.Ceiling((limit.ToDoubles()[0] - start.ToDoubles()[0]) / step);
        return c.Outputs(new TensorType(type, [Dim.Known((long)Math.Max(count, 0))]));
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (c.Ints(0) is not [long start] || c.Ints(1) is not [long limit] || c.Ints(2) is not [long delta] || delta == 0) return null;
        long count = Math.Max(DimMath.CeilDiv(limit - start, delta), 0);
        if (count > SymbolicTensor.MaxElements) return null;
        return SymbolicTensor.Create(c.ElementType(0), [count], Enumerable.Range(0, (int)count).Select(i => start + i * delta));
    }
}
