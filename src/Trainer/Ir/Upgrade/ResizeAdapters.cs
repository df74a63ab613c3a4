namespace OnnxTrainer.Ir.Upgrade;

/// <summary>Upsample's path to Resize: scales per axis at 7, as an input at 9, renamed Resize at 10; Resize's roi at 11.</summary>
internal static class ResizeAdapters
{
    /// <summary>Upsample-1 scaled the two spatial axes of NCHW by <c>height_scale</c> and <c>width_scale</c>; 7 takes one scale per axis.</summary>
    public static void ScalesPerAxis(AdapterContext c)
    {
        var height = c.Take("height_scale");
        var width = c.Take("width_scale");
        if (height is null && width is null) return;
        c.Node.Attributes["scales"] = Attribute.Of("scales", [1f, 1f, height?.F ?? 1f, width?.F ?? 1f]);
    }

    /// <summary>Upsample-9 takes <c>scales</c> as input 1.</summary>
    public static void ScalesToInput(AdapterContext c)
    {
        var scales = c.Take("scales") ?? throw c.Error("it has no scales");
        var tensor = Tensor.FromFloats([scales.Floats.Count], [.. scales.Floats]);
        c.Rewrite([c.Node.Input(0), c.Constant(tensor, "scales")]);
    }

    /// <summary>Upsample was deprecated at 10 in favour of Resize, which then had the same inputs and modes.</summary>
    public static void UpsampleToResize(AdapterContext c) => c.Rewrite("Resize", c.Node.Inputs);

    /// <summary>
    /// Resize-11 reads (X, roi, scales, sizes) and maps output to input coordinates by
    /// <c>coordinate_transformation_mode</c>, default half_pixel. Resize-10 (and Upsample) mapped them as
    /// <c>asymmetric</c> does (x_in = x_out / scale), and its nearest pixel was the floor of that when upsampling
    /// (the ceiling when downsampling), so both are said explicitly; the roi is unused in those modes.
    /// </summary>
    public static void RoiAndCoordinates(AdapterContext c)
    {
        var scales = c.Node.Input(1) ?? throw c.Error("it has no scales");
        c.Node.Attributes["coordinate_transformation_mode"] = Attribute.Of("coordinate_transformation_mode", "asymmetric");
        if (c.Node.String("mode", "nearest") == "nearest")
        {
            var factors = Shapes.ConstantRule.DataOf(scales)?.ToFloats();
            bool downsampling = factors is not null && factors.Length > 0 && factors.All(f => f <= 1) && factors.Any(f => f < 1);
            c.Node.Attributes["nearest_mode"] = Attribute.Of("nearest_mode", downsampling ? "ceil" : "floor");
        }
        var roi = c.Constant(Tensor.FromFloats([0], []), "roi");
        c.Rewrite([c.Node.Input(0), roi, scales]);
    }
}
