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

/// <summary>Dropout as exported for inference is the identity; training-mode dropout is not part of our forward graphs.</summary>
internal sealed class DropoutGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        if (c.Node.Input(2) is { } mode && (mode.Initializer is not { } t || t.ToInt64s()[0] != 0))
            throw new GraphException($"{c.Node}: dropout in training mode is not supported in the forward graph");
        return [c.GO(0), .. Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1)];
    }
}

internal sealed class CastGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Cast(c.GO(0)!, c.ElementType(c.I(0)))];
}
