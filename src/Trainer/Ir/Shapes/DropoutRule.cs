namespace OnnxTrainer.Ir.Shapes;

/// <summary>Output and optional mask have X's shape; the mask is bool from opset 10 (typed like X before).</summary>
internal sealed class DropoutRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) =>
        c.Outputs(c.Type(0), new TensorType(c.Opset >= 10 ? DataType.Bool : c.ElementType(0), c.Shape(0)));
}
