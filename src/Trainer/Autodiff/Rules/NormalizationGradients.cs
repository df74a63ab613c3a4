using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// BatchNormalization in inference mode: Y = scale * (X - mean) * invstd + B per channel (axis 1), with
/// invstd = 1 / sqrt(var + epsilon) and the running statistics never trained (null gradients).
/// Frozen BN (scale and var are initializers, the usual fine-tuning case) folds scale * invstd into a
/// constant at build time, so dX is a single Mul. dScale uses sum(GO * X) - mean * sum(GO) instead
/// of materializing X - mean: one full-size Mul and ReduceSum fewer, and sum(GO) is shared with dB;
/// the cancellation costs about |mean| / std ulps, small for the activations BN sees.
/// </summary>
internal sealed class BatchNormalizationGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        if (c.Attr("training_mode", 0) != 0)
            throw new GraphException($"{c.Node}: BatchNormalization with training_mode=1 has no gradient rule; export the model in eval mode");
        var x = c.I(0);
        int rank = c.RankOf(x);
        double epsilon = c.Node.Float("epsilon", 1e-5f);
        var go = c.GO(0)!;
        var reduceAxes = Enumerable.Range(0, rank).Where(a => a != 1).Select(a => (long)a).ToArray();
        long[] channelShape = [-1, .. Enumerable.Repeat(1L, rank - 2)];

        Value? invStd = null;
        Value InvStd() => invStd ??= InverseStd(c, c.I(4), epsilon, c.ElementType(x));

        Value? dx = null;
        if (c.NeedsGradient(0))
        {
            Value factor = Constant(c.I(1)) is { } scale && Constant(c.I(4)) is { } variance
                ? c.Constant(Tensor.FromReals(c.ElementType(x), [scale.Length, .. channelShape[1..]],
                    [.. scale.Select((s, i) => s / Math.Sqrt(variance[i] + epsilon))]), "scale_invstd")
                : c.Reshape(c.Mul(c.I(1), InvStd()), channelShape);
            dx = c.Mul(go, factor);
        }

        Value? dScale = null, dBias = null;
        if (c.NeedsGradient(1) || c.NeedsGradient(2))
        {
            var sumGrad = c.ReduceSum(go, reduceAxes, keepDims: false);
            if (c.NeedsGradient(2)) dBias = sumGrad;
            if (c.NeedsGradient(1))
            {
                var sumGradX = c.ReduceSum(c.Mul(go, x), reduceAxes, keepDims: false);
                dScale = c.Mul(c.Sub(sumGradX, c.Mul(c.I(3), sumGrad)), InvStd());
            }
        }
        return [dx, dScale, dBias, null, null];
    }

    private static Value InverseStd(GradientContext c, Value variance, double epsilon, DataType type) =>
        Constant(variance) is { } v
            ? c.Constant(Tensor.FromReals(type, [v.Length], [.. v.Select(e => 1 / Math.Sqrt(e + epsilon))]), "invstd")
            : c.Reciprocal(c.Sqrt(c.Add(variance, c.ScalarLike(epsilon, variance))));

    private static double[]? Constant(Value v) => GradientContext.ConstantData(v)?.ToDoubles();
}

/// <summary>
/// LayerNormalization over axes [axis, rank): with xhat = (X - mean) * invstd and g = GO * scale,
/// dX = invstd * (g - mean(g) - xhat * mean(g * xhat)), dScale = sum over the leading axes of GO * xhat,
/// dB = sum of GO. xhat and invstd come from one more LayerNormalization of X with unit scale: a single
/// fused pass, cheaper than rebuilding them from the forward's optional Mean/InvStdDev outputs.
/// </summary>
internal sealed class LayerNormalizationGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var scale = c.I(1);
        var type = c.ElementType(x);
        var shape = c.ShapeOf(x);
        int rank = shape.Count;
        long axis = c.Attr("axis", -1);
        if (axis < 0) axis += rank;
        var normalizedAxes = Enumerable.Range((int)axis, rank - (int)axis).Select(a => (long)a).ToArray();
        var go = c.GO(0)!;

        var normalizedShape = shape.Skip((int)axis).ToList();
        Value ones = normalizedShape.All(d => d.IsKnown)
            ? c.Constant(Tensor.FromReals(type, [.. normalizedShape.Select(d => d.Value!.Value)],
                [.. Enumerable.Repeat(1.0, (int)normalizedShape.Aggregate(1L, (n, d) => n * d.Value!.Value))]), "unit_scale")
            : c.Op("ConstantOfShape", [c.Slice(c.Shape(x), [axis], [long.MaxValue], [0])], Attribute.Of("value", Tensor.FromReals(type, [1], [1.0])));
        var stats = c.OpN("LayerNormalization", [x, ones], 3, [.. c.Node.Attributes.Values]);
        var xhat = stats[0];
        // Mean/InvStdDev have the stash type (float) even for double X in some kernels; match X's type.
        var invStd = c.Cast(stats[2], type);

        Value? gradTimesXhat = c.NeedsGradient(1) ? c.Mul(go, xhat) : null;
        Value? dScale = gradTimesXhat is null ? null : c.SumToShape(gradTimesXhat, x, scale);
        Value? dBias = c.Node.Input(2) is { } bias && c.NeedsGradient(2) ? c.SumToShape(go, x, bias) : null;

        Value? dx = null;
        if (c.NeedsGradient(0))
        {
            var g = c.Mul(go, scale);
            var gXhat = gradTimesXhat is null ? c.Mul(g, xhat) : c.Mul(gradTimesXhat, scale);
            var centered = c.Sub(c.Sub(g, c.ReduceMean(g, normalizedAxes, keepDims: true)),
                c.Mul(xhat, c.ReduceMean(gXhat, normalizedAxes, keepDims: true)));
            dx = c.Mul(centered, invStd);
        }
        return c.Node.Inputs.Count > 2 ? [dx, dScale, dBias] : [dx, dScale];
    }
}
