namespace OnnxTrainer.Ir.Shapes;

internal sealed class IdentityRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(c.Type(0));

    public SymbolicTensor? Evaluate(ShapeContext c) => c.Data(0);
}
