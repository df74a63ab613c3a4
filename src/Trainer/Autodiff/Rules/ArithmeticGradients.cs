using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

// Binary arithmetic with numpy broadcasting: each gradient is summed back to its input's shape.

internal sealed class AddGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) =>
    [
        c.NeedsGradient(0) ? c.SumToShape(c.GO(0)!, c.O(0), c.I(0)) : null,
        c.NeedsGradient(1) ? c.SumToShape(c.GO(0)!, c.O(0), c.I(1)) : null,
    ];
}

internal sealed class SubGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) =>
    [
        c.NeedsGradient(0) ? c.SumToShape(c.GO(0)!, c.O(0), c.I(0)) : null,
        c.NeedsGradient(1) ? c.Neg(c.SumToShape(c.GO(0)!, c.O(0), c.I(1))) : null,
    ];
}

internal sealed class MulGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) =>
    [
        c.NeedsGradient(0) ? c.SumToShape(c.Mul(c.GO(0)!, c.I(1)), c.O(0), c.I(0)) : null,
        c.NeedsGradient(1) ? c.SumToShape(c.Mul(c.GO(0)!, c.I(0)), c.O(0), c.I(1)) : null,
    ];
}

internal sealed class DivGradient : IGradientRule
{
    // d(a/b)/db = -a/b^2 = -(a/b)/b: reuse the forward output instead of squaring b.
    public Value?[] Build(GradientContext c) =>
    [
        c.NeedsGradient(0) ? c.SumToShape(c.Div(c.GO(0)!, c.I(1)), c.O(0), c.I(0)) : null,
        c.NeedsGradient(1) ? c.SumToShape(c.Neg(c.Div(c.Mul(c.GO(0)!, c.O(0)), c.I(1))), c.O(0), c.I(1)) : null,
    ];
}

internal sealed class PowGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        Value? da = null, db = null;
        if (c.NeedsGradient(0))
        {
            // Constant exponents (the common x^2, x^0.5) need no second Pow.
            var exponent = c.I(1).Initializer;
            Value local = exponent is { } e && e.ElementCount() == 1 && e.ElementType.IsFloatingPoint()
                ? PowerDerivative(c, e.ToDoubles()[0])
                : c.Mul(c.Cast(c.I(1), c.ElementType(c.I(0))), c.Op("Pow", [c.I(0), c.Sub(c.Cast(c.I(1), c.ElementType(c.I(0))), c.One)]));
            da = c.SumToShape(c.Mul(c.GO(0)!, local), c.O(0), c.I(0));
        }
        if (c.NeedsGradient(1))
            db = c.SumToShape(c.Mul(c.GO(0)!, c.Mul(c.O(0), c.Log(c.I(0)))), c.O(0), c.I(1));
        return [da, db];
    }

    private static Value PowerDerivative(GradientContext c, double p) => p switch
    {
        1 => c.Op("ConstantOfShape", [c.Shape(c.I(0))], Attribute.Of("value", c.ElementType(c.I(0)) == DataType.Double
            ? Tensor.FromDoubles([1], [1.0]) : Tensor.FromFloats([1], [1f]))),
        2 => c.Mul(c.I(0), c.ScalarLike(2, c.I(0))),
        _ => c.Mul(c.ScalarLike(p, c.I(0)), c.Op("Pow", [c.I(0), c.ScalarLike(p - 1, c.I(0))])),
    };
}

internal sealed class SumGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) =>
        [.. c.Node.Inputs.Select((input, i) => c.NeedsGradient(i) ? c.SumToShape(c.GO(0)!, c.O(0), input!) : null)];
}
