namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss over scores [N, C, d...]: a scalar, or
/// [N, d...] with reduction 'none'. SoftmaxCrossEntropyLoss may also return log_prob shaped like the scores.
/// </summary>
internal sealed class LossRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        var scores = c.Shape(0);
        IReadOnlyList<Dim>? loss = c.String("reduction", "mean") != "none" ? []
            : scores is { Count: >= 2 } ? [scores[0], .. scores.Skip(2)] : c.Shape(1);
        return c.Outputs(new TensorType(type, loss), c.Type(0));
    }
}
