namespace OnnxTrainer.Ir.Shapes;

/// <summary>GlobalAveragePool and GlobalMaxPool: [N, C, D...] -> [N, C, 1...].</summary>
internal sealed class GlobalPoolRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var x = c.Shape(0);
        var dims = x?.Select((d, i) => i < 2 ? d : Dim.Known(1)).ToArray();
        return c.Outputs(new TensorType(c.ElementType(0), dims));
    }
}
