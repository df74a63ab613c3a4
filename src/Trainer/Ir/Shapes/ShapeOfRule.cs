namespace OnnxTrainer.Ir.Shapes;

/// <summary>Shape (with start/end from opset 15): a 1-D int64 tensor whose elements are the (symbolic) sizes.</summary>
internal sealed class ShapeOfRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) =>
        c.Outputs(new TensorType(DataType.Int64, [c.Shape(0) is { } x ? Dim.Known(Bounds(c, x.Count).Length) : Dim.Unknown]));

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (c.Shape(0) is not { } x) return null;
        var (start, length) = Bounds(c, x.Count);
        return SymbolicTensor.Create(DataType.Int64, [length], x.Skip(start).Take(length).Select(SymbolicInt.FromDim).ToArray());
    }

    private static (int Start, int Length) Bounds(ShapeContext c, int rank)
    {
        long start = c.Int("start", 0), end = c.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        return ((int)start, (int)Math.Max(0, end - start));
    }
}
