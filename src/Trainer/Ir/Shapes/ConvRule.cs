namespace OnnxTrainer.Ir.Shapes;

/// <summary>Conv(X [N, C, D...], W [M, C/group, k...]) -> [N, M, windows...].</summary>
internal sealed class ConvRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var x = c.Shape(0);
        var w = c.Shape(1);
        if (x is null || x.Count < 3) return c.Outputs(new TensorType(c.ElementType(0), null));
        int spatial = x.Count - 2;
        var kernel = Kernel(c, w, spatial);
        var window = new Window(c, spatial);
        var dims = new Dim[x.Count];
        dims[0] = x[0];
        dims[1] = w is { Count: > 0 } ? w[0] : Dim.Unknown;
        for (int i = 0; i < spatial; i++)
            dims[i + 2] = kernel[i] is long k ? window.Output(i, x[i + 2], k, ceilMode: false) : Dim.Unknown;
        return c.Outputs(new TensorType(c.ElementType(0), dims));
    }

    /// <summary>kernel_shape, or the spatial dimensions of the weight; null entries where unknown.</summary>
    public static long?[] Kernel(ShapeContext c, IReadOnlyList<Dim>? weight, int spatial)
    {
        if (c.Ints("kernel_shape") is { } attribute)
            return attribute.Count == spatial ? attribute.Select(k => (long?)k).ToArray() : throw c.Error($"kernel_shape has {attribute.Count} entries for {spatial} spatial axes");
        return Enumerable.Range(0, spatial).Select(i => weight is not null && weight.Count == spatial + 2 ? weight[i + 2].Value : null).ToArray();
    }
}
