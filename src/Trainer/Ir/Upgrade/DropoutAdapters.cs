namespace OnnxTrainer.Ir.Upgrade;

/// <summary>Dropout's changes: the mask became bool at 10, the ratio an input at 12.</summary>
internal static class DropoutAdapters
{
    /// <summary>Where something reads the mask, it gets it back in X's type (ones in inference, as before).</summary>
    public static void BoolMask(AdapterContext c)
    {
        if (c.Node.Outputs.Count < 2) return;
        var mask = c.Node.Output(1);
        if (mask.Users.Count == 0 && !c.Graph.Outputs.Contains(mask)) return;
        var type = c.Node.Input(0)!.Type?.ElementType is DataType.Double ? DataType.Double : DataType.Float;
        c.InsertAfter(mask, bools => c.Cast(bools, type));
    }

    public static void RatioToInput(AdapterContext c)
    {
        var ratio = c.Take("ratio");
        if (ratio is null) return;
        c.Rewrite([c.Node.Input(0), c.Scalar(ratio.F)]);
    }
}
