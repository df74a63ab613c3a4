namespace OnnxTrainer.Ir.Shapes;

/// <summary>MaxPool and AveragePool: [N, C, D...] -> [N, C, windows...]; MaxPool's optional Indices are int64.</summary>
internal sealed class PoolRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var x = c.Shape(0);
        if (x is null || x.Count < 3) return c.Outputs(new TensorType(c.ElementType(0), null), new TensorType(DataType.Int64, null));
        int spatial = x.Count - 2;
        var kernel = c.Ints("kernel_shape") ?? throw c.Error("kernel_shape is required");
        if (kernel.Count != spatial) throw c.Error($"kernel_shape has {kernel.Count} entries for {spatial} spatial axes");
        var window = new Window(c, spatial);
        bool ceilMode = c.Int("ceil_mode", 0) != 0;
        var dims = new Dim[x.Count];
        dims[0] = x[0];
        dims[1] = x[1];
        for (int i = 0; i < spatial; i++) dims[i + 2] = window.Output(i, x[i + 2], kernel[i], ceilMode);
        return c.Outputs(new TensorType(c.ElementType(0), dims), new TensorType(DataType.Int64, dims));
    }
}
