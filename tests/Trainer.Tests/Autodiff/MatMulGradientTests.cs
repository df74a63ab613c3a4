using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Autodiff;

public class MatMulGradientTests
{
    private const double Rtol = 1e-6, Atol = 1e-8;

    public static TheoryData<long[], long[]> MatMulShapes => new()
    {
        { [3, 4], [4, 5] },
        { [2, 3, 4], [4, 5] },
        { [2, 3, 4], [2, 4, 5] },
        { [2, 1, 3, 4], [3, 4, 2] },
        { [4], [4, 5] },
        { [3, 4], [4] },
        { [4], [4] },
        { [3, 4], [2, 4, 5] },
    };

    [Theory]
    [MemberData(nameof(MatMulShapes))]
    public void MatMul_BatchedAndBroadcast_MatchesNumerical(long[] shapeA, long[] shapeB)
    {
        var check = new GradientCheck();
        var a = check.Input("a", shapeA);
        var b = check.Input("b", shapeB);
        check.Verify(check.Builder.MatMul(a, b), Rtol, Atol);
    }

    [Theory]
    [InlineData(0L, 0L, 1f, 1f, 2)]
    [InlineData(0L, 1L, 1f, 1f, 1)]
    [InlineData(1L, 0L, 0.5f, 2f, 2)]
    [InlineData(1L, 1L, 2f, 0.5f, 0)]
    [InlineData(0L, 1L, 1f, 1f, -1)]
    public void Gemm_TransposeFlagsAndScales_MatchesNumerical(long transA, long transB, float alpha, float beta, int biasRank)
    {
        var check = new GradientCheck(DataType.Float);
        long m = 3, k = 4, n = 5;
        var a = check.Input("a", transA == 1 ? [k, m] : [m, k]);
        var b = check.Input("b", transB == 1 ? [n, k] : [k, n]);
        Value?[] inputs = biasRank switch
        {
            -1 => [a, b],
            0 => [a, b, check.Input("c", [])],
            1 => [a, b, check.Input("c", [n])],
            _ => [a, b, check.Input("c", [m, n])],
        };
        var y = check.Builder.Op("Gemm", inputs, Attribute.Of("transA", transA), Attribute.Of("transB", transB),
            Attribute.Of("alpha", alpha), Attribute.Of("beta", beta));
        check.Verify(y, 1e-2, 1e-3, epsilon: 1e-3);
    }
}
