namespace OnnxTrainer.Ir.Shapes;

/// <summary>ConstantOfShape: a tensor of the requested shape filled with 'value' (float 0 by default).</summary>
internal sealed class ConstantOfShapeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.Node.TensorAttribute("value")?.ElementType ?? DataType.Float;
        if (c.Data(0) is { } shape) return c.Outputs(new TensorType(type, shape.Elements.Select(e => e.ToDim()).ToArray()));
        return c.Outputs(new TensorType(type, c.Shape(0) is [{ Value: long rank }] ? Enumerable.Repeat(Dim.Unknown, (int)rank).ToArray() : null));
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        var fill = c.Node.TensorAttribute("value");
        if (fill is null || !SymbolicTensor.IsTracked(fill.ElementType) || fill.ElementCount() != 1) return null;
        if (c.Ints(0) is not { } dims || dims.Any(d => d < 0) || Tensor.ElementCount(dims) > SymbolicTensor.MaxElements) return null;
        var value = SymbolicInt.Known(fill.ToInt64s()[0]);
        return SymbolicTensor.Create(fill.ElementType, dims, Enumerable.Repeat(value, (int)Tensor.ElementCount(dims)).ToArray());
    }
}
