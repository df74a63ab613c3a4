using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// MatMul with numpy batching: dA = dY B^T, dB = A^T dY, each summed over broadcast batch axes.
/// 1-D operands are lifted to matrices first, as the operator itself does.
/// </summary>
internal sealed class MatMulGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var a = c.I(0);
        var b = c.I(1);
        int rankA = c.RankOf(a), rankB = c.RankOf(b);
        var dy = c.GO(0)!;
        // Restore the axes that 1-D operands dropped from the output, so dY is a (batched) matrix.
        if (rankA == 1 && rankB == 1) dy = c.Reshape(dy, 1, 1);
        else if (rankA == 1) dy = c.Unsqueeze(dy, -2);
        else if (rankB == 1) dy = c.Unsqueeze(dy, -1);
        var a2 = rankA == 1 ? c.Unsqueeze(a, 0) : a;
        var b2 = rankB == 1 ? c.Unsqueeze(b, 1) : b;

        Value? da = null, db = null;
        if (c.NeedsGradient(0))
        {
            var full = c.MatMul(dy, TransposeLast(c, b2, Math.Max(rankB, 2)));
            da = rankA == 1 ? c.Reshape(full, -1) : SumBatch(c, full, a, rankA, rankB);
        }
        if (c.NeedsGradient(1))
        {
            if (rankB == 2 && rankA > 2)
            {
                // A shared weight under a batched input (e.g. a head over tokens): one big GEMM instead of a batched one plus a reduction.
                var flatA = c.Reshape(a, -1, c.ShapeOf(a)[^1].Value ?? throw new GraphException($"{c.Node}: inner dimension must be static"));
                var flatDy = c.Reshape(dy, -1, c.ShapeOf(b)[^1].Value ?? throw new GraphException($"{c.Node}: output dimension must be static"));
                db = c.MatMul(c.Transpose(flatA, 1, 0), flatDy);
            }
            else
            {
                var full = c.MatMul(TransposeLast(c, a2, Math.Max(rankA, 2)), dy);
                db = rankB == 1 ? c.Reshape(full, -1) : SumBatch(c, full, b, rankB, rankA);
            }
        }
        return [da, db];
    }

    private static Value TransposeLast(GradientContext c, Value v, int rank) =>
        c.Transpose(v, [.. Enumerable.Range(0, rank - 2).Select(i => (long)i), rank - 1, rank - 2]);

    /// <summary>Sums a batched gradient over the batch axes that the operand was broadcast along.</summary>
    private static Value SumBatch(GradientContext c, Value grad, Value operand, int rank, int otherRank)
    {
        int outRank = Math.Max(Math.Max(rank, otherRank), 2);
        if (outRank == rank) return BroadcastBatchAxes(c, grad, operand, rank);
        // Leading batch axes that the operand lacks: sum them away.
        var summed = c.ReduceSum(grad, [.. Enumerable.Range(0, outRank - rank).Select(i => (long)i)], keepDims: false);
        return BroadcastBatchAxes(c, summed, operand, rank);
    }

    private static Value BroadcastBatchAxes(GradientContext c, Value grad, Value operand, int rank)
    {
        var shape = c.ShapeOf(operand);
        var axes = Enumerable.Range(0, rank - 2).Where(i => shape[i].Value == 1).Select(i => (long)i).ToArray();
        return axes.Length == 0 ? grad : c.ReduceSum(grad, axes, keepDims: true);
    }
}

/// <summary>
/// Gemm Y = alpha op(A) op(B) + beta C, with each gradient written as a single Gemm whose transpose
/// flags absorb the forward ones (no Transpose nodes; the note measured Gemm heads as fast).
/// </summary>
internal sealed class GemmGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        bool transA = c.Attr("transA", 0) != 0, transB = c.Attr("transB", 0) != 0;
        float alpha = c.Node.Float("alpha", 1f), beta = c.Node.Float("beta", 1f);
        var dy = c.GO(0)!;
        Value? da = null, db = null, dc = null;
        if (c.NeedsGradient(0))
            da = transA
                ? Gemm(c, c.I(1), dy, transB, true, alpha)
                : Gemm(c, dy, c.I(1), false, !transB, alpha);
        if (c.NeedsGradient(1))
            db = transB
                ? Gemm(c, dy, c.I(0), true, transA, alpha)
                : Gemm(c, c.I(0), dy, !transA, false, alpha);
        if (c.Node.Input(2) is not null && c.NeedsGradient(2))
        {
            var summed = c.SumToShape(dy, c.O(0), c.I(2));
            dc = beta == 1f ? summed : c.Mul(summed, c.ScalarLike(beta, c.I(2)));
        }
        return c.Node.Inputs.Count == 3 ? [da, db, dc] : [da, db];
    }

    private static Value Gemm(GradientContext c, Value a, Value b, bool transA, bool transB, float alpha) =>
        c.Op("Gemm", [a, b],
            Attribute.Of("transA", transA ? 1L : 0L), Attribute.Of("transB", transB ? 1L : 0L), Attribute.Of("alpha", alpha));
}
