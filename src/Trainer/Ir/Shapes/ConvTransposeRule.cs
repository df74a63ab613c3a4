namespace OnnxTrainer.Ir.Shapes;

/// <summary>ConvTranspose(X [N, C, D...], W [C, M/group, k...]) -> [N, M, D'...].</summary>
internal sealed class ConvTransposeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var x = c.Shape(0);
        var w = c.Shape(1);
        if (x is null || x.Count < 3) return c.Outputs(new TensorType(c.ElementType(0), null));
        int spatial = x.Count - 2;
        var kernel = ConvRule.Kernel(c, w, spatial);
        var window = new Window(c, spatial);
        var outputPadding = c.Ints("output_padding") ?? new long[spatial];
        // output_shape may list only the spatial sizes or the whole shape.
        var outputShape = c.Ints("output_shape") is { } given ? given.Skip(Math.Max(0, given.Count - spatial)).ToArray() : null;
        var dims = new Dim[x.Count];
        dims[0] = x[0];
        dims[1] = w is { Count: > 1 } ? DimMath.Product([w[1], Dim.Known(c.Int("group", 1))]) : Dim.Unknown;
        for (int i = 0; i < spatial; i++)
        {
            if (outputShape is not null) { dims[i + 2] = Dim.Known(outputShape[i]); continue; }
            if (x[i + 2].Value is not long n || kernel[i] is not long k) { dims[i + 2] = Dim.Unknown; continue; }
            long stride = window.Strides[i];
            dims[i + 2] = window.AutoPad is "SAME_UPPER" or "SAME_LOWER"
                ? Dim.Known(n * stride)
                : Dim.Known(stride * (n - 1) + outputPadding[i] + (k - 1) * window.Dilations[i] + 1
                    - (window.AutoPad == "VALID" ? 0 : window.Pads[i] + window.Pads[i + spatial]));
        }
        return c.Outputs(new TensorType(c.ElementType(0), dims));
    }
}
