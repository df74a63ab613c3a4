using System.Globalization;
using System.Net;
using System.Text;

namespace OnnxTrainer.Reports;

/// <summary>Inline SVG drawings for the HTML report: line charts and a heat map, no scripts, no external resources.</summary>
internal static class SvgCharts
{
    public sealed record Series(string Name, string Color, IReadOnlyList<(double X, double Y)> Points);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Text(string s) => WebUtility.HtmlEncode(s);

    /// <summary>
    /// A line chart over <paramref name="epochs"/> (the same range for every chart of a run, so that they line up), with
    /// ticks at round numbers and a legend; NaN points are left out. <paramref name="percent"/> draws fractions as 0-100 %.
    /// </summary>
    public static string LineChart(string title, IReadOnlyList<Series> series, (double Min, double Max) epochs, bool percent = false, int width = 640, int height = 240)
    {
        const int left = 60, right = 20, top = 30, bottom = 45;
        double scale = percent ? 100 : 1;
        series = [.. series.Select(s => s with { Points = [.. s.Points.Select(p => (p.X, p.Y * scale))] })];
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{Text(title)}">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{width / 2}" y="18" text-anchor="middle" class="title">{Text(title)}</text>""");
        if (points.Count == 0)
            return svg.Append(CultureInfo.InvariantCulture, $"""<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text></svg>""").ToString();

        var xAxis = AxisTicks.Cover(epochs.Min, epochs.Max, count: 10, minimumStep: 1);
        double plotWidth = width - left - right, plotHeight = height - top - bottom;
        var yAxis = AxisTicks.Cover(Math.Min(0, points.Min(p => p.Y)), points.Max(p => p.Y), count: Math.Max(3, (int)(plotHeight / 32)));
        double X(double x) => left + (x - xAxis.Min) / (xAxis.Max - xAxis.Min) * plotWidth;
        double Y(double y) => top + plotHeight - (y - yAxis.Min) / (yAxis.Max - yAxis.Min) * plotHeight;
        string Value(double y) => percent ? $"{y.ToString("0.#", CultureInfo.InvariantCulture)} %" : y.ToString("0.##########", CultureInfo.InvariantCulture);

        foreach (double value in yAxis.Values())
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{left}" x2="{width - right}" y1="{F(Y(value))}" y2="{F(Y(value))}" class="grid"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 6}" y="{F(Y(value) + 4)}" text-anchor="end">{Value(value)}</text>""");
        }
        foreach (double x in xAxis.Values())
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(X(x))}" y="{height - bottom + 16}" text-anchor="middle">{F(x)}</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left + plotWidth / 2}" y="{height - 8}" text-anchor="middle">epoch</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{left}" y="{top}" width="{F(plotWidth)}" height="{F(plotHeight)}" class="frame"/>""");

        int legendX = left + 10;
        foreach (var s in series)
        {
            var finite = s.Points.Where(p => double.IsFinite(p.Y)).ToList();
            if (finite.Count == 0) continue;
            string path = string.Join(" ", finite.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline points="{path}" fill="none" stroke="{s.Color}" stroke-width="2"/>""");
            foreach (var p in finite)
                svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{F(X(p.X))}" cy="{F(Y(p.Y))}" r="2.5" fill="{s.Color}"><title>{Text(s.Name)} epoch {F(p.X)}: {(percent ? Value(p.Y) : p.Y.ToString("G4", CultureInfo.InvariantCulture))}</title></circle>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{legendX}" y="{top + 8}" width="12" height="3" fill="{s.Color}"/><text x="{legendX + 16}" y="{top + 13}">{Text(s.Name)}</text>""");
            legendX += 24 + 7 * s.Name.Length;
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// The confusion matrix as a heat map over <paramref name="classes"/> (indices into the labels): rows are
    /// true classes, columns predicted ones, color by the share of the row (so small classes are as visible
    /// as large ones), the count written in each cell.
    /// </summary>
    public static string ConfusionHeatMap(Evaluation evaluation, IReadOnlyList<int> classes)
    {
        int n = classes.Count;
        int cell = Math.Clamp(560 / Math.Max(n, 1), 6, 44);
        int labelSpace = Math.Min(160, 12 + 7 * classes.Max(c => evaluation.Labels[c].Length));
        int size = labelSpace + n * cell + 10;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 20}" viewBox="0 0 {size} {size + 20}" role="img" aria-label="confusion matrix">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{labelSpace + n * cell / 2}" y="{size + 14}" text-anchor="middle">predicted</text>""");
        for (int row = 0; row < n; row++)
        {
            int label = classes[row];
            long rowTotal = Enumerable.Range(0, evaluation.Labels.Count).Sum(c => evaluation.Count(label, c));
            int y = labelSpace + row * cell;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{labelSpace - 4}" y="{y + cell / 2 + 4}" text-anchor="end">{Text(Clip(evaluation.Labels[label]))}</text>""");
            for (int column = 0; column < n; column++)
            {
                int predicted = classes[column];
                long count = evaluation.Count(label, predicted);
                double share = rowTotal == 0 ? 0 : (double)count / rowTotal;
                int x = labelSpace + column * cell;
                string fill = row == column ? Blend(share, (33, 102, 172)) : Blend(share, (202, 0, 32));
                svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"><title>true {Text(evaluation.Labels[label])}, predicted {Text(evaluation.Labels[predicted])}: {count} ({share:P1} of the class)</title></rect>""");
                if (cell >= 18 && count > 0)
                    svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="{(share > 0.5 ? "#fff" : "#222")}">{count}</text>""");
            }
        }
        for (int column = 0; column < n; column++)
        {
            int x = labelSpace + column * cell + cell / 2 + 4;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{x}" y="{labelSpace - 4}" transform="rotate(-60 {x} {labelSpace - 4})">{Text(Clip(evaluation.Labels[classes[column]]))}</text>""");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Clip(string label) => label.Length <= 20 ? label : label[..19] + "…";

    /// <summary>White at 0, the full color at 1.</summary>
    private static string Blend(double share, (int R, int G, int B) color)
    {
        int Mix(int c) => (int)Math.Round(255 + (c - 255) * share);
        return $"rgb({Mix(color.R)},{Mix(color.G)},{Mix(color.B)})";
    }
}
