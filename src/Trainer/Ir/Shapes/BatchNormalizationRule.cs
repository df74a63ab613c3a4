namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Y has X's shape. The optional outputs (running or saved mean and variance, in training mode)
/// are per-channel vectors typed like the mean input.
/// </summary>
internal sealed class BatchNormalizationRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var result = c.Outputs(c.Type(0));
        Dim channels = c.Shape(0) is { Count: > 1 } x ? x[1] : c.Shape(1) is [var n] ? n : Dim.Unknown;
        var statType = c.ElementType(3) is var t && t != DataType.Undefined ? t : c.ElementType(0);
        for (int i = 1; i < result.Length; i++) result[i] = new TensorType(statType, [channels]);
        return result;
    }
}
