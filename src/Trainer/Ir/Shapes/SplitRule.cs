namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Split along an axis into parts given by 'split' (attribute before opset 13, input after), or
/// into equal parts (num_outputs from opset 18, where the last part may be smaller).
/// </summary>
internal sealed class SplitRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        var result = new TensorType?[c.OutputCount];
        if (c.Shape(0) is not { } x)
        {
            Array.Fill(result, new TensorType(type, null));
            return result;
        }
        int axis = c.Axis(c.Int("axis", 0), x.Count);
        var sizes = Sizes(c, x[axis]);
        for (int i = 0; i < result.Length; i++)
        {
            var dims = x.ToArray();
            dims[axis] = sizes?[i] is long size ? Dim.Known(size) : Dim.Unknown;
            result[i] = new TensorType(type, dims);
        }
        return result;
    }

    private static long[]? Sizes(ShapeContext c, Dim dim)
    {
        int parts = c.OutputCount;
        var split = c.Opset >= 13 ? (c.Has(1) ? c.Ints(1) : null) : c.Ints("split");
        if (split is not null)
        {
            if (split.Count != parts) throw c.Error($"split has {split.Count} entries for {parts} outputs");
            if (dim.Value is long total && split.Sum() != total) throw c.Error($"split sizes sum to {split.Sum()}, not {total}");
            return [.. split];
        }
        if (c.Opset >= 13 && c.Has(1) || dim.Value is not long n) return null;
        if (c.Node.Attributes.ContainsKey("num_outputs"))
        {
            long chunk = DimMath.CeilDiv(n, parts);
            return Enumerable.Range(0, parts).Select(i => Math.Clamp(n - i * chunk, 0, chunk)).ToArray();
        }
        if (n % parts != 0) throw c.Error($"cannot split size {n} into {parts} equal parts");
        return Enumerable.Repeat(n / parts, parts).ToArray();
    }
}
