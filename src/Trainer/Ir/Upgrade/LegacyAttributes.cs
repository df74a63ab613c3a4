namespace OnnxTrainer.Ir.Upgrade;

/// <summary>Attributes that a version removed without changing what the operator computes on a loaded model.</summary>
internal static class LegacyAttributes
{
    /// <summary>
    /// BatchNormalization-7 and Dropout-7 dropped <c>is_test</c> (whether the node runs in inference mode is now up to the
    /// runtime and its outputs) and exporters of that era still wrote <c>consumed_inputs</c> (an in-place hint, gone at 6).
    /// </summary>
    public static void DropTestMode(AdapterContext c)
    {
        c.Take("is_test");
        c.Take("consumed_inputs");
    }

    /// <summary>Gemm-7 always broadcasts C to the product's shape; Gemm-6's <c>broadcast=0</c> only forbade what now works.</summary>
    public static void DropGemmBroadcast(AdapterContext c) => c.Take("broadcast");

    /// <summary>RoiAlign-16 added coordinate_transformation_mode with default half_pixel; before, coordinates were not shifted.</summary>
    public static void RoiAlignOutputHalfPixel(AdapterContext c)
    {
        if (!c.Node.Attributes.ContainsKey("coordinate_transformation_mode"))
            c.Node.Attributes["coordinate_transformation_mode"] = Attribute.Of("coordinate_transformation_mode", "output_half_pixel");
    }

    /// <summary>Scatter was renamed ScatterElements at opset 11 with the same inputs and meaning.</summary>
    public static void ScatterToScatterElements(AdapterContext c) => c.Rewrite("ScatterElements", c.Node.Inputs);
}
