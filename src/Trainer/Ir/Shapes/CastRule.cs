namespace OnnxTrainer.Ir.Shapes;

internal sealed class CastRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(new TensorType(Target(c), c.Shape(0)));

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        var type = Target(c);
        if (c.Data(0) is not { } input || !SymbolicTensor.IsTracked(type)) return null;
        // A symbol survives a cast between integer types (sizes fit any of them); a bool of it does not.
        var elements = Array.ConvertAll(input.Elements, e =>
            e.Value is long v ? SymbolicInt.Known(SymbolicTensor.Wrap(type, v)) : type == DataType.Bool ? default : e);
        return SymbolicTensor.Create(type, input.Dims, elements);
    }

    private static DataType Target(ShapeContext c) => (DataType)c.Int("to", (long)DataType.Undefined);
}
