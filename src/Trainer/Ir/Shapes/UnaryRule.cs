namespace OnnxTrainer.Ir.Shapes;

/// <summary>Elementwise operators whose output has the type and shape of input 0.</summary>
internal sealed class UnaryRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(c.Type(0));
}
