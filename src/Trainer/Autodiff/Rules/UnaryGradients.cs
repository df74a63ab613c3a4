using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff.Rules;

// Elementwise unary operators; where possible the local derivative is written with the forward output.

internal sealed class NegGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Neg(c.GO(0)!)];
}

internal sealed class SqrtGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Div(c.Mul(c.GO(0)!, c.ScalarLike(0.5, c.O(0))), c.O(0))];
}

internal sealed class ExpGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Mul(c.GO(0)!, c.O(0))];
}

internal sealed class LogGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Div(c.GO(0)!, c.I(0))];
}

internal sealed class ReciprocalGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Neg(c.Mul(c.GO(0)!, c.Mul(c.O(0), c.O(0))))];
}

internal sealed class IdentityGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.GO(0)];
}

/// <summary>
/// Dropout in inference mode (as exported) is the identity. In training mode the gradient passes where the node's
/// mask output kept the element, scaled by 1/(1 - ratio) as the forward was: dX = dY * Cast(mask) / (1 - ratio).
/// </summary>
internal sealed class DropoutGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var rest = Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1);
        if (c.Node.Input(2) is not { } mode || mode.Initializer is { } t && t.ToInt64s()[0] == 0)
            return [c.GO(0), .. rest];
        if (mode.Initializer is null)
            throw new GraphException($"{c.Node}: training_mode must be a constant to differentiate dropout");
        if (c.Node.Outputs.Count < 2)
            throw new GraphException($"{c.Node}: dropout in training mode needs its mask output to be differentiated");
        var ratio = c.Node.Input(1);
        var scale = ratio?.Initializer is { } r
            ? c.ScalarLike(1f / (1f - r.ToFloats()[0]), c.O(0)) // in float, as ONNX Runtime's kernel scales
            : c.Div(c.One, c.Sub(c.One, ratio is null ? c.ScalarLike(0.5, c.O(0)) : c.Cast(ratio, c.ElementType(c.O(0)))));
        return [c.Mul(c.GO(0)!, c.Mul(c.Cast(c.O(1), c.ElementType(c.O(0))), scale)), .. rest];
    }
}

internal sealed class CastGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Cast(c.GO(0)!, c.ElementType(c.I(0)))];
}
