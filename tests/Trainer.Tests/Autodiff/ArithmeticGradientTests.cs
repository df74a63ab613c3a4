using OnnxTrainer.Ir;
using Xunit;

namespace OnnxTrainer.Tests.Autodiff;

// Float64 central differences with eps 1e-6: truncation and rounding errors are ~1e-9, so 1e-6 relative is a safe bound.
public class ArithmeticGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;

    public static TheoryData<string, long[], long[]> BroadcastCases => new()
    {
        { "Add", [2, 3, 4], [2, 3, 4] },
        { "Add", [2, 3, 4], [4] },
        { "Sub", [2, 3, 4], [3, 1] },
        { "Sub", [1, 3, 1], [2, 1, 4] },
        { "Mul", [2, 3, 4], [1, 3, 1] },
        { "Mul", [], [2, 3] },
        { "Div", [2, 3, 4], [3, 4] },
        { "Div", [4], [2, 3, 4] },
    };

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void BinaryOp_Broadcasting_MatchesNumerical(string op, long[] shapeA, long[] shapeB)
    {
        var check = new GradientCheck();
        var a = check.Input("a", shapeA);
        var b = op == "Div" ? check.Input("b", shapeB, 0.5, 2) : check.Input("b", shapeB);
        check.Verify(check.Builder.Op(op, [a, b]), Rtol, Atol);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.5)]
    [InlineData(3.0)]
    public void Pow_ConstantExponent_MatchesNumerical(double exponent)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [3, 4], 0.5, 2);
        check.Verify(check.Builder.Op("Pow", [x, check.Builder.Scalar(exponent, DataType.Double)]), Rtol, Atol);
    }

    [Fact]
    public void Pow_VariableExponent_MatchesNumerical()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [3, 4], 0.5, 2);
        var p = check.Input("p", [4], 0.5, 2);
        check.Verify(check.Builder.Op("Pow", [x, p]), Rtol, Atol);
    }

    [Theory]
    [InlineData("Neg")]
    [InlineData("Sqrt")]
    [InlineData("Exp")]
    [InlineData("Log")]
    [InlineData("Reciprocal")]
    [InlineData("Identity")]
    public void UnaryOp_MatchesNumerical(string op)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 5], 0.5, 2);
        check.Verify(check.Builder.Op(op, [x]), Rtol, Atol);
    }

    [Fact]
    public void FanOut_GradientsAreSummed()
    {
        var check = new GradientCheck();
        var x = check.Input("x", [3, 4]);
        var b = check.Builder;
        check.Verify(b.Add(b.Mul(x, x), b.Exp(x)), Rtol, Atol);
    }

    [Fact]
    public void Cast_FloatToDouble_MatchesNumerical()
    {
        var check = new GradientCheck(DataType.Float);
        var x = check.Input("x", [3, 4]);
        check.Verify(check.Builder.Mul(x, x), 1e-3, 1e-4, epsilon: 1e-3);
    }

    [Theory]
    [InlineData("ReduceSum", new long[] { 1 }, 1L)]
    [InlineData("ReduceSum", new long[] { 0, 2 }, 0L)]
    [InlineData("ReduceSum", new long[0], 0L)]
    [InlineData("ReduceMean", new long[] { -1 }, 1L)]
    [InlineData("ReduceMean", new long[] { 0, 1 }, 0L)]
    public void Reduction_MatchesNumerical(string op, long[] axes, long keepDims)
    {
        var check = new GradientCheck();
        var x = check.Input("x", [2, 3, 4]);
        var b = check.Builder;
        var y = op == "ReduceSum" ? b.ReduceSum(x, axes, keepDims == 1) : b.ReduceMean(x, axes, keepDims == 1);
        check.Verify(y, Rtol, Atol);
    }
}
