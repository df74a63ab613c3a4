using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff;

/// <summary>
/// Mean softmax cross-entropy over the batch, as PyTorch's CrossEntropyLoss defines it, with optional
/// label smoothing and per-class weights, written in standard operators that all have gradient rules:
/// q = OneHot(labels) smoothed, l_i = -sum_c w_c q_ic log_softmax(z)_ic, loss = sum_i l_i / sum_i w_{y_i}
/// (the plain mean when there are no weights). Its gradient is exactly w-weighted (softmax(z) - q) / normalizer.
/// </summary>
public static class CrossEntropyLoss
{
    public static Value Append(GraphBuilder b, Value logits, Value labels, int classes, double labelSmoothing = 0, IReadOnlyList<float>? classWeights = null)
    {
        if (labelSmoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        if (classWeights is not null && classWeights.Count != classes)
            throw new ArgumentException($"{classWeights.Count} class weights for {classes} classes", nameof(classWeights));
        var type = logits.Type?.ElementType ?? DataType.Float;

        float off = (float)(labelSmoothing / classes), on = (float)(1 - labelSmoothing + labelSmoothing / classes);
        var target = b.Op("OneHot", [labels, b.Constant(Tensor.Scalar((long)classes), "classes"), b.Constant(Tensor.FromFloats([2], [off, on]), "on_off")],
            Attribute.Of("axis", -1L));
        if (type != DataType.Float) target = b.Cast(target, type);
        Value? weights = null;
        if (classWeights is not null)
        {
            weights = b.Constant(Tensor.FromFloats([classes], [.. classWeights]), "class_weights");
            if (type != DataType.Float) weights = b.Cast(weights, type);
            target = b.Mul(target, weights);
        }

        // Types are set as the nodes are made: the gradient builder reads the shapes of what it differentiates through.
        var matrix = logits.Type;
        var vector = new TensorType(type, [logits.Type?.Shape?[0] ?? Dim.Unknown]);
        var scalar = new TensorType(type, []);
        var logProbabilities = Typed(b.Op("LogSoftmax", [logits], Attribute.Of("axis", 1L)), matrix);
        var perSample = Typed(b.Neg(Typed(b.ReduceSum(Typed(b.Mul(target, logProbabilities), matrix), [1], keepDims: false), vector)), vector);
        return weights is null
            ? Typed(b.ReduceMean(perSample, [0], keepDims: false), scalar)
            : Typed(b.Div(Typed(b.ReduceSum(perSample, [0], keepDims: false), scalar),
                b.ReduceSum(b.Op("Gather", [weights, labels]), [0], keepDims: false)), scalar);
    }

    private static Value Typed(Value value, TensorType? type)
    {
        value.Type = type;
        return value;
    }
}
