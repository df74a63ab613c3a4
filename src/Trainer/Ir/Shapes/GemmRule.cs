namespace OnnxTrainer.Ir.Shapes;

/// <summary>Gemm: op(A) [M, K] times op(B) [K, N] -> [M, N], op being an optional transpose.</summary>
internal sealed class GemmRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } a || c.Shape(1) is not { } b) return c.Outputs(new TensorType(type, null));
        if (a.Count != 2 || b.Count != 2) throw c.Error($"Gemm needs 2-D operands, got ranks {a.Count} and {b.Count}");
        bool transA = c.Int("transA", 0) != 0, transB = c.Int("transB", 0) != 0;
        Dim m = transA ? a[1] : a[0], ka = transA ? a[0] : a[1];
        Dim kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
        if (ka.IsKnown && kb.IsKnown && ka.Value != kb.Value) throw c.Error($"inner dimensions {ka} and {kb} differ");
        return c.Outputs(new TensorType(type, [m, n]));
    }
}
