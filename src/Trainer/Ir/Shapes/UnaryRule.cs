namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Elementwise operators whose output has the type and shape of input 0. With <c>op</c> given,
/// integer values are computed (Neg and Abs appear in exporters' axis arithmetic).
/// </summary>
internal sealed class UnaryRule(Func<long, long>? op = null) : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(c.Type(0));

    public SymbolicTensor? Evaluate(ShapeContext c) =>
        op is not null && c.Data(0) is { } x
            ? SymbolicTensor.Create(x.ElementType, x.Dims, Array.ConvertAll(x.Elements, e => e.Value is long v ? SymbolicInt.Known(SymbolicTensor.Wrap(x.ElementType, op(v))) : default))
            : null;
}
