namespace OnnxTrainer.Ir.Upgrade;

/// <summary>Attributes that became inputs: the same values, now given as constant tensors after the data input.</summary>
internal static class AttributesToInputs
{
    /// <summary>Squeeze, Unsqueeze and ReduceSum at 13: <c>axes</c> became input 1 (absent still means every axis / every unit axis).</summary>
    public static void Axes(AdapterContext c)
    {
        var axes = c.Take("axes");
        if (axes is null) return;
        c.Rewrite([c.Node.Input(0), c.IntsInput(axes.Ints)]);
    }

    /// <summary>Split at 13: <c>split</c> became input 1 (absent still means equal parts).</summary>
    public static void Split(AdapterContext c)
    {
        var split = c.Take("split");
        if (split is null) return;
        c.Rewrite([c.Node.Input(0), c.IntsInput(split.Ints)]);
    }

    /// <summary>Slice at 10: <c>starts</c>, <c>ends</c> and <c>axes</c> became inputs 1-3, and steps (4) default to 1.</summary>
    public static void Slice(AdapterContext c)
    {
        var starts = c.Take("starts") ?? throw c.Error("it has no starts");
        var ends = c.Take("ends") ?? throw c.Error("it has no ends");
        var axes = c.Take("axes");
        c.Rewrite([c.Node.Input(0), c.IntsInput(starts.Ints), c.IntsInput(ends.Ints), axes is null ? null : c.IntsInput(axes.Ints)]);
    }

    /// <summary>TopK at 10: <c>k</c> became a one-element int64 input.</summary>
    public static void TopK(AdapterContext c)
    {
        var k = c.Take("k") ?? throw c.Error("it has no k");
        c.Rewrite([c.Node.Input(0), c.IntsInput([k.I])]);
    }

    /// <summary>Pad at 11: <c>pads</c> became input 1 and the constant <c>value</c> (default 0) input 2, typed like the data.</summary>
    public static void Pad(AdapterContext c)
    {
        var pads = c.Take("pads") ?? throw c.Error("it has no pads");
        float value = c.Take("value")?.F ?? 0f;
        var x = c.Node.Input(0)!;
        c.Rewrite(value == 0 ? [x, c.IntsInput(pads.Ints)] : [x, c.IntsInput(pads.Ints), c.ScalarLike(value, x)]);
    }

    /// <summary>
    /// Clip at 11: <c>min</c> and <c>max</c> became optional inputs 1 and 2 of X's type; an absent bound stays absent
    /// (unbounded), so ReLU6 written as Clip(min=0, max=6) keeps both.
    /// </summary>
    public static void Clip(AdapterContext c)
    {
        var min = c.Take("min");
        var max = c.Take("max");
        var x = c.Node.Input(0)!;
        if (min is null && max is null) return;
        c.Rewrite(max is null
            ? [x, c.ScalarLike(min!.F, x)]
            : [x, min is null ? null : c.ScalarLike(min.F, x), c.ScalarLike(max.F, x)]);
    }
}
