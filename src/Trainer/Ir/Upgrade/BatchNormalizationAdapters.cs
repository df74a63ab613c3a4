namespace OnnxTrainer.Ir.Upgrade;

/// <summary>BatchNormalization's changes: <c>spatial</c> removed at 9, the training outputs reshaped at 14.</summary>
internal static class BatchNormalizationAdapters
{
    /// <summary>
    /// <c>spatial=1</c> (the default) is what opset 9 always does: statistics per channel. <c>spatial=0</c> normalized each
    /// activation with scale, B, mean and var of shape [C, D1, ...]; that becomes the same arithmetic in element-wise
    /// operators, which broadcast those [C, D1, ...] tensors over the batch: (X - mean) * scale / sqrt(var + epsilon) + B.
    /// </summary>
    public static void Spatial(AdapterContext c)
    {
        bool spatial = c.Take("spatial")?.I != 0;
        if (spatial) return;
        if (c.Node.Outputs.Skip(1).Any(o => o.Users.Count > 0 || c.Graph.Outputs.Contains(o)))
            throw c.Error("spatial=0 in training mode (its statistics outputs are read) has no opset 9 form");
        var x = c.Node.Input(0)!;
        var scale = c.Node.Input(1)!;
        var bias = c.Node.Input(2)!;
        var mean = c.Node.Input(3)!;
        var variance = c.Node.Input(4)!;
        var epsilon = c.ScalarLike(c.Node.Float("epsilon", 1e-5f), x);
        var factor = c.Div(scale, c.Sqrt(c.Add(variance, epsilon)));
        c.ReplaceWith(c.Add(c.Mul(c.Sub(x, mean), factor), bias));
    }

    /// <summary>
    /// Opset 14 has at most Y, running_mean and running_var (the latter two only in training mode); an inference node
    /// whose optional outputs nobody reads keeps only Y.
    /// </summary>
    public static void InferenceOutputs(AdapterContext c) => c.KeepOutputs(1);
}
