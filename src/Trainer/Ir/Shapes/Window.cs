namespace OnnxTrainer.Ir.Shapes;

/// <summary>The sliding-window attributes shared by Conv, ConvTranspose and the pools.</summary>
internal sealed class Window
{
    public long[] Strides { get; }
    public long[] Dilations { get; }
    /// <summary>Begin pads for every axis, then end pads.</summary>
    public long[] Pads { get; }
    public string AutoPad { get; }
    private readonly int _spatial;

    public Window(ShapeContext c, int spatial)
    {
        _spatial = spatial;
        Strides = Read(c, "strides", spatial, 1);
        Dilations = Read(c, "dilations", spatial, 1);
        Pads = Read(c, "pads", 2 * spatial, 0);
        AutoPad = c.String("auto_pad", "NOTSET");
        if (Strides.Any(s => s <= 0) || Dilations.Any(d => d <= 0)) throw c.Error("strides and dilations must be positive");
        if (Pads.Any(p => p < 0 || p > int.MaxValue)) throw c.Error($"pads [{string.Join(", ", Pads)}] must be 0 to {int.MaxValue:N0}");
    }

    public Dim Output(int axis, Dim input, long kernel, bool ceilMode) =>
        DimMath.Window(input, kernel, Strides[axis], Dilations[axis], Pads[axis], Pads[axis + _spatial], AutoPad, ceilMode);

    private static long[] Read(ShapeContext c, string name, int count, long fallback)
    {
        if (c.Ints(name) is not { } values) return Enumerable.Repeat(fallback, count).ToArray();
        return values.Count == count ? [.. values] : throw c.Error($"{name} has {values.Count} entries, expected {count}");
    }
}
