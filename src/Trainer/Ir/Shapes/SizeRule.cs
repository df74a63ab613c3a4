namespace OnnxTrainer.Ir.Shapes;

/// <summary>Size: the element count as an int64 scalar.</summary>
internal sealed class SizeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(TensorType.Of(DataType.Int64));

    public SymbolicTensor? Evaluate(ShapeContext c) =>
        c.Shape(0) is { } x ? SymbolicTensor.Create(DataType.Int64, [], [SymbolicInt.FromDim(DimMath.Product(x))]) : null;
}
