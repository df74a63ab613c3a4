namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Resize: each axis becomes sizes[i], or floor(input[i] * scales[i]), when that input is a constant; otherwise (and
/// for scales under tf_crop_and_resize, which apply to the roi's extent) only the rank is known. The optional axes
/// attribute (opset 18) names which axes sizes or scales cover; the others keep their size.
/// </summary>
internal sealed class ResizeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        int[] axes = c.Ints("axes") is { } listed ? [.. listed.Select(a => c.Axis(a, x.Count))] : [.. Enumerable.Range(0, x.Count)];
        var output = x.Select((d, i) => axes.Contains(i) ? Dim.Unknown : d).ToArray();
        if (c.Has(3) && c.Constant(3) is { } sizes)
        {
            var values = sizes.ToInt64s();
            if (values.Length != axes.Length) throw c.Error($"sizes has {values.Length} entries for {axes.Length} axes");
            for (int i = 0; i < axes.Length; i++) output[axes[i]] = Dim.Known(values[i]);
        }
        else if (c.Has(2) && c.Constant(2) is { } scales && scales.ElementCount() > 0
            && c.String("coordinate_transformation_mode", "half_pixel") != "tf_crop_and_resize") // that one scales the roi's extent
        {
            var values = scales.ToDoubles();
            if (values.Length != axes.Length) throw c.Error($"scales has {values.Length} entries for {axes.Length} axes");
            for (int i = 0; i < axes.Length; i++)
                if (x[axes[i]].Value is long d) output[axes[i]] = Dim.Known((long)Math.Floor(d * (double)(float)values[i]));
        }
        return c.Outputs(new TensorType(type, output));
    }
}
