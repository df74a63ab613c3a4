namespace OnnxTrainer.Ir.Shapes;

/// <summary>numpy matmul: batch dimensions broadcast; a 1-D operand gains and then loses a unit axis.</summary>
internal sealed class MatMulRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } a || c.Shape(1) is not { } b) return c.Outputs(new TensorType(type, null));
        if (a.Count == 0 || b.Count == 0) throw c.Error("MatMul operands must have rank 1 or more");
        IReadOnlyList<Dim> left = a.Count == 1 ? [Dim.Known(1), a[0]] : a;
        IReadOnlyList<Dim> right = b.Count == 1 ? [b[0], Dim.Known(1)] : b;
        Dim k1 = left[^1], k2 = right[^2];
        if (k1.IsKnown && k2.IsKnown && k1.Value != k2.Value)
            throw c.Error($"inner dimensions {k1} and {k2} differ");
        var dims = DimMath.Broadcast(c, left.Take(left.Count - 2).ToArray(), right.Take(right.Count - 2).ToArray()).ToList();
        if (a.Count > 1) dims.Add(left[^2]);
        if (b.Count > 1) dims.Add(right[^1]);
        return c.Outputs(new TensorType(type, dims));
    }
}
