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
        CheckChannels(c, x, w);
        var kernel = Kernel(c, w, spatial);
        var window = new Window(c, spatial);
        var dims = new Dim[x.Count];
        dims[0] = x[0];
        dims[1] = w is { Count: > 0 } ? w[0] : Dim.Unknown;
        for (int i = 0; i < spatial; i++)
            dims[i + 2] = kernel[i] is long k ? window.Output(i, x[i + 2], k, ceilMode: false) : Dim.Unknown;
        return c.Outputs(new TensorType(c.ElementType(0), dims));
    }

    /// <summary>The weight must be [M, C/group, k...] for an input of C channels, as ONNX Runtime will insist.</summary>
    private static void CheckChannels(ShapeContext c, IReadOnlyList<Dim> x, IReadOnlyList<Dim>? w)
    {
        long group = c.Int("group", 1);
        if (group < 1) throw c.Error($"group is {group}; it must be at least 1");
        if (w is null) return;
        if (w.Count != x.Count) throw c.Error($"the weight has rank {w.Count} for an input of rank {x.Count}");
        if (x[1].Value is long channels && w[1].Value is long perGroup && channels != perGroup * group)
            throw c.Error($"the input has {channels} channels; the weight reads {perGroup} per group x {group} group(s)");
    }

    /// <summary>kernel_shape, or the spatial dimensions of the weight; null entries where unknown.</summary>
    public static long?[] Kernel(ShapeContext c, IReadOnlyList<Dim>? weight, int spatial)
    {
        if (c.Ints("kernel_shape") is { } attribute)
        {
            if (attribute.Count != spatial) throw c.Error($"kernel_shape has {attribute.Count} entries for {spatial} spatial axes");
            if (weight is not null && weight.Count == spatial + 2 && Enumerable.Range(0, spatial).Any(i => weight[i + 2].Value is long k && k != attribute[i]))
                throw c.Error($"kernel_shape [{string.Join(", ", attribute)}] contradicts the weight's {string.Join("x", weight.Skip(2))}");
            return attribute.Select(k => (long?)k).ToArray();
        }
        return Enumerable.Range(0, spatial).Select(i => weight is not null && weight.Count == spatial + 2 ? weight[i + 2].Value : null).ToArray();
    }
}
