using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

// Activation masks are built from the forward output so ORT keeps its Conv+Relu/Clip fusion, and
// as float arithmetic rather than Where/Cast(bool): the note measured Mul(dY, HardSigmoid(Y, 2^126, 0))
// as the fastest exact 0/1 mask for ReLU on normal floats.

internal static class ActivationMask
{
    // HardSigmoid(v; A, -A*b) = clip(A*v - A*b, 0, 1) is a 0/1 step with no bool tensors when A*v - A*b is exact and
    // >= 1 exactly where v > b. For b = 0 that takes A = 2^126, the reciprocal of the smallest normal float (only
    // subnormal v would get a fraction); for a bound of moderate size 2^100, small enough that A*b stays finite, and
    // large enough that one ulp of b (>= 2^-90 for |b| >= 1e-20) times A is >= 1.
    private const double SteepAtZero = 8.507059173023462e37, Steep = 1.2676506002282294e30;

    /// <summary>1 where v &gt; bound, else 0, in v's element type.</summary>
    public static Value Above(GradientContext c, Value v, double bound) =>
        UsesStep(c, v, bound)
            ? c.Op("HardSigmoid", [v], Attribute.Of("alpha", (float)SteepFor(bound)), Attribute.Of("beta", (float)(-SteepFor(bound) * bound)))
            : c.Cast(c.Op("Greater", [v, c.ScalarLike(bound, v)]), c.ElementType(v));

    /// <summary>1 where v &lt; bound, else 0.</summary>
    public static Value Below(GradientContext c, Value v, double bound) =>
        UsesStep(c, v, bound)
            ? c.Op("HardSigmoid", [v], Attribute.Of("alpha", (float)-SteepFor(bound)), Attribute.Of("beta", (float)(SteepFor(bound) * bound)))
            : c.Cast(c.Op("Less", [v, c.ScalarLike(bound, v)]), c.ElementType(v));

    /// <summary>1 where v == 0, else 0, for float v &gt;= 0 (+infinity included): the complement of Above(v, 0).</summary>
    public static Value ZeroAt(GradientContext c, Value nonNegative) =>
        c.Op("HardSigmoid", [nonNegative], Attribute.Of("alpha", (float)-SteepAtZero), Attribute.Of("beta", 1f));

    private static double SteepFor(double bound) => bound == 0 ? SteepAtZero : Steep;

    /// <summary>1 where low &lt; v &lt; high; bounds are constants or tensors.</summary>
    public static Value Between(GradientContext c, Value v, Value low, Value high)
    {
        if (Constant(low) is { } lo && Constant(high) is { } hi)
        {
            if (double.IsNegativeInfinity(lo)) return Below(c, v, hi);
            if (double.IsPositiveInfinity(hi)) return Above(c, v, lo);
            return c.Mul(Above(c, v, lo), Below(c, v, hi));
        }
        return c.Cast(c.Op("And", [c.Op("Greater", [v, low]), c.Op("Less", [v, high])]), c.ElementType(v));
    }

    private static double? Constant(Value v) =>
        GradientContext.ConstantData(v) is { } t && t.ElementCount() == 1 && t.ElementType.IsFloatingPoint() ? t.ToDoubles()[0] : null;

    private static bool UsesStep(GradientContext c, Value v, double bound) =>
        c.ElementType(v) == DataType.Float && (bound == 0 || Math.Abs(bound) is >= 1e-20 and <= 1e7);
}

internal sealed class ReluGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Mul(c.GO(0)!, ActivationMask.Above(c, c.O(0), 0))];
}

internal sealed class LeakyReluGradient : IGradientRule
{
    // slope = alpha + (1 - alpha) * [x > 0]; the output has the sign of the input for alpha > 0.
    public Value?[] Build(GradientContext c)
    {
        double alpha = c.Node.Float("alpha", 0.01f);
        var x = alpha > 0 ? c.O(0) : c.I(0);
        var slope = c.Add(c.Mul(ActivationMask.Above(c, x, 0), c.ScalarLike(1 - alpha, x)), c.ScalarLike(alpha, x));
        return [c.Mul(c.GO(0)!, slope)];
    }
}

/// <summary>Clip (ReLU6 and friends): gradient passes where min &lt; x &lt; max, as PyTorch's hardtanh.</summary>
internal sealed class ClipGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        // The output lies strictly inside (min, max) exactly where the input does; reading the output keeps Conv+Clip fusable.
        var y = c.O(0);
        Value Bound(int input, string attribute, float fallback) =>
            c.Node.Input(input) ?? c.ScalarLike(c.Node.Float(attribute, fallback), y);
        var low = Bound(1, "min", float.NegativeInfinity);
        var high = Bound(2, "max", float.PositiveInfinity);
        Value?[] gradients = [c.Mul(c.GO(0)!, ActivationMask.Between(c, y, low, high)), null, null];
        return gradients[..c.Node.Inputs.Count];
    }
}

internal sealed class SigmoidGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Mul(c.GO(0)!, c.Mul(c.O(0), c.Sub(c.One, c.O(0))))];
}

internal sealed class TanhGradient : IGradientRule
{
    public Value?[] Build(GradientContext c) => [c.Mul(c.GO(0)!, c.Sub(c.One, c.Mul(c.O(0), c.O(0))))];
}

/// <summary>HardSigmoid: alpha where the linear part is active (0 &lt; alpha*x + beta &lt; 1).</summary>
internal sealed class HardSigmoidGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        double alpha = c.Node.Float("alpha", 0.2f);
        var y = c.O(0);
        var mask = ActivationMask.Between(c, y, c.ScalarLike(0, y), c.ScalarLike(1, y));
        return [c.Mul(c.GO(0)!, c.Mul(mask, c.ScalarLike(alpha, y)))];
    }
}

/// <summary>HardSwish x*relu6(x+3)/6: slope 0 below -3, 1 above 3, x/3 + 1/2 between.</summary>
internal sealed class HardSwishGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var middle = ActivationMask.Between(c, x, c.ScalarLike(-3, x), c.ScalarLike(3, x));
        var above = ActivationMask.Above(c, x, 3);
        var slope = c.Add(c.Mul(middle, c.Add(c.Mul(x, c.ScalarLike(1.0 / 3, x)), c.ScalarLike(0.5, x))), above);
        return [c.Mul(c.GO(0)!, slope)];
    }
}

internal sealed class ErfGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var local = c.Mul(c.ScalarLike(2 / Math.Sqrt(Math.PI), x), c.Exp(c.Neg(c.Mul(x, x))));
        return [c.Mul(c.GO(0)!, local)];
    }
}

/// <summary>Gelu (opset 20), exact erf form or the tanh approximation.</summary>
internal sealed class GeluGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        Value local;
        if (c.Node.String("approximate", "none") == "tanh")
        {
            // y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
            double k = Math.Sqrt(2 / Math.PI);
            var x2 = c.Mul(x, x);
            var u = c.Mul(c.ScalarLike(k, x), c.Add(x, c.Mul(c.ScalarLike(0.044715, x), c.Mul(x2, x))));
            var t = c.Op("Tanh", [u]);
            var du = c.Mul(c.ScalarLike(k, x), c.Add(c.One, c.Mul(c.ScalarLike(3 * 0.044715, x), x2)));
            var half = c.ScalarLike(0.5, x);
            local = c.Add(c.Mul(half, c.Add(c.One, t)), c.Mul(c.Mul(half, x), c.Mul(c.Sub(c.One, c.Mul(t, t)), du)));
        }
        else
        {
            // y = x Phi(x): dy/dx = Phi(x) + x phi(x)
            var cdf = c.Mul(c.ScalarLike(0.5, x), c.Add(c.One, c.Op("Erf", [c.Mul(x, c.ScalarLike(1 / Math.Sqrt(2), x))])));
            var pdf = c.Mul(c.ScalarLike(1 / Math.Sqrt(2 * Math.PI), x), c.Exp(c.Mul(c.Mul(x, x), c.ScalarLike(-0.5, x))));
            local = c.Add(cdf, c.Mul(x, pdf));
        }
        return [c.Mul(c.GO(0)!, local)];
    }
}
