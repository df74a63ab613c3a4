namespace OnnxTrainer.Reports;

/// <summary>
/// An axis that ends and is marked at round numbers (1, 2 or 5 times a power of ten, Heckbert's "nice numbers"), so that
/// a reader can tell values apart without a calculator: 0, 0.2, 0.4 rather than 0, 0.211, 0.421.
/// </summary>
internal sealed record AxisTicks(double Min, double Max, double Step)
{
    /// <summary>At most about <paramref name="count"/> ticks covering [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static AxisTicks Cover(double min, double max, int count = 5, double minimumStep = 0)
    {
        if (max <= min) max = min + Math.Max(1, minimumStep);
        double step = Math.Max(Round((max - min) / Math.Max(1, count - 1)), minimumStep);
        return new AxisTicks(Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    /// <summary>The tick values, Min to Max.</summary>
    public IEnumerable<double> Values()
    {
        int steps = (int)Math.Round((Max - Min) / Step);
        for (int i = 0; i <= steps; i++)
            yield return Math.Round(Min + i * Step, 12);
    }

    /// <summary>The round number (1, 2, 5 x 10^k) nearest to <paramref name="value"/>.</summary>
    private static double Round(double value)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        double fraction = value / power;
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
    }
}
