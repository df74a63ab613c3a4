namespace OnnxTrainer.Ir.Shapes;

/// <summary>Y has X's shape; Mean and InvStdDev keep the leading axes and have size 1 from axis on.</summary>
internal sealed class LayerNormalizationRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var x = c.Shape(0);
        Dim[]? statShape = null;
        if (x is not null)
        {
            int axis = c.Axis(c.Int("axis", -1), x.Count);
            statShape = x.Select((d, i) => i < axis ? d : Dim.Known(1)).ToArray();
        }
        var statType = new TensorType((DataType)c.Int("stash_type", (long)DataType.Float), statShape);
        return c.Outputs(c.Type(0), statType, statType);
    }
}
