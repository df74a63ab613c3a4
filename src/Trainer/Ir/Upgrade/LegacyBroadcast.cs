namespace OnnxTrainer.Ir.Upgrade;

/// <summary>
/// Before opset 7 the binary element-wise operators broadcast only with <c>broadcast=1</c>, and then B was
/// laid over A's axes starting at <c>axis</c> (default: aligned to A's last axes). From 7 they follow numpy,
/// which aligns trailing axes, so a B placed at an explicit axis gets unit axes appended until it ends where A ends.
/// </summary>
internal static class LegacyBroadcast
{
    public static void Adapt(AdapterContext c)
    {
        bool broadcast = c.Take("broadcast")?.I == 1;
        var axisAttribute = c.Take("axis");
        if (!broadcast || axisAttribute is null) return;
        var a = c.Node.Input(0) ?? throw c.Error("input A is missing");
        var b = c.Node.Input(1) ?? throw c.Error("input B is missing");
        int rankA = c.RankOf(a);
        int rankB = c.RankOf(b);
        long axis = axisAttribute.I < 0 ? axisAttribute.I + rankA : axisAttribute.I;
        long trailing = rankA - axis - rankB;
        if (axis < 0 || trailing < 0) throw c.Error($"B of rank {rankB} does not fit A of rank {rankA} at axis {axisAttribute.I}");
        if (trailing == 0) return;
        var aligned = c.Unsqueeze(b, [.. Enumerable.Range(rankB, (int)trailing).Select(i => (long)i)]);
        c.Rewrite([a, aligned]);
    }

    /// <summary>
    /// PRelu-6 applied a one-dimensional slope of C values per channel (axis 1); from 7 the slope broadcasts like numpy,
    /// from the last axis, so such a slope gets unit axes appended to reach axis 1.
    /// </summary>
    public static void PerChannelSlope(AdapterContext c)
    {
        var x = c.Node.Input(0)!;
        var slope = c.Node.Input(1)!;
        if (c.RankOf(slope) != 1 || slope.Type?.Shape?[0].Value == 1) return;
        int rank = c.RankOf(x);
        if (rank <= 2) return;
        c.Rewrite([x, c.Unsqueeze(slope, [.. Enumerable.Range(1, rank - 2).Select(i => (long)i)])]);
    }
}
