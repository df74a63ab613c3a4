using System.Globalization;
using System.Net;
using System.Text;
using OnnxTrainer.Inference.Preprocessing;
using SkiaSharp;

namespace OnnxTrainer.Reports;

/// <summary>
/// The evaluation report: one self-contained HTML file (inline CSS and SVG, thumbnails as data URIs, no
/// scripts, nothing fetched) with training curves, the confusion heat map, per-class metrics and the
/// worst-classified images. Opens anywhere, including offline and as a CI artifact.
/// </summary>
public static class HtmlReport
{
    private const int WorstExamples = 24;
    private const int ThumbnailSize = 112;
    private const int MaxHeatMapClasses = 40;

    private const string Style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
        .summary span { display: inline-block; margin-right: 28px; } .summary b { font-size: 20px; }
        table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
        td:first-child, th:first-child { text-align: left; }
        svg text { font: 11px sans-serif; fill: #333; } svg .title { font-size: 13px; font-weight: bold; }
        svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; }
        .charts { display: flex; flex-direction: column; } .muted { color: #777; }
        .run { display: flex; gap: 32px; align-items: flex-start; } .run th, .run td { text-align: left; } .run th { font-weight: normal; color: #777; }
        .run pre { font-size: 12px; background: #f6f6f6; padding: 8px 12px; margin: 0; max-height: 320px; overflow: auto; }
        .examples { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 0; width: 140px; font-size: 12px; } figure img { display: block; border: 1px solid #ccc; }
        figcaption { word-break: break-all; } .wrong { color: #b00020; }
        """;

    /// <param name="curves">The run's metrics log, one entry per epoch; empty leaves the curves out.</param>
    /// <param name="run">The recipe and backbone of the run that made the model; null for a model from elsewhere.</param>
    public static void Write(string path, Evaluation evaluation, IReadOnlyList<EpochMetrics> curves, string modelPath, string dataPath, RunDescription? run = null)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation: ")
            .Append(E(Path.GetFileName(modelPath))).Append("</title><style>").Append(Style).Append("</style></head><body>\n");
        html.Append(CultureInfo.InvariantCulture, $"<h1>Evaluation of {E(Path.GetFileName(modelPath))}</h1><p class=\"muted\">model {E(modelPath)}<br>data {E(dataPath)}<br>{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC</p>\n");
        if (run is not null) html.Append(Run(run));
        html.Append(CultureInfo.InvariantCulture,
            $"<p class=\"summary\"><span>images <b>{evaluation.Total}</b></span><span>accuracy <b>{Percent(evaluation.Accuracy)}</b></span><span>top-{Evaluation.TopN} <b>{Percent(evaluation.TopNAccuracy)}</b></span><span>classes <b>{evaluation.Labels.Count}</b></span></p>\n");

        if (curves.Count > 0)
        {
            // One epoch axis for the three charts, stacked, so that a change in the learning rate lines up with its effect.
            var epochs = ((double)curves.Min(m => m.Epoch), (double)curves.Max(m => m.Epoch));
            html.Append("<h2>Training curves</h2><div class=\"charts\">");
            html.Append(SvgCharts.LineChart("loss", [Series("train", "#1f77b4", curves, m => m.TrainLoss), Series("validation", "#d62728", curves, m => m.ValLoss)], epochs));
            html.Append(SvgCharts.LineChart("accuracy", [Series("train", "#1f77b4", curves, m => m.TrainAccuracy), Series("validation", "#d62728", curves, m => m.ValAccuracy)], epochs, percent: true));
            html.Append(SvgCharts.LineChart("learning rate", [Series("learning rate", "#2ca02c", curves, m => m.LearningRate)], epochs, height: 160));
            html.Append("</div>\n");
        }

        var classes = HeatMapClasses(evaluation);
        html.Append("<h2>Confusion matrix</h2><p class=\"muted\">Rows: true class; columns: predicted class; shade: share of the row.");
        if (classes.Count < evaluation.Labels.Count)
            html.Append(CultureInfo.InvariantCulture, $" Showing the {classes.Count} classes with the most errors of {evaluation.Labels.Count}; <code>evaluate --json</code> has the whole matrix.");
        html.Append("</p>").Append(SvgCharts.ConfusionHeatMap(evaluation, classes)).Append('\n');

        html.Append("<h2>Per class</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>images</th></tr>");
        foreach (var c in evaluation.PerClass())
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(c.Label)}</td><td>{Percent(c.Precision)}</td><td>{Percent(c.Recall)}</td><td>{Percent(c.F1)}</td><td>{c.Support}</td></tr>");
        html.Append("</table>\n");

        var worst = evaluation.Worst(WorstExamples);
        html.Append("<h2>Worst-classified images</h2>");
        if (worst.Count == 0) html.Append("<p>No image was misclassified.</p>");
        html.Append("<div class=\"examples\">");
        foreach (var image in worst)
        {
            html.Append("<figure>").Append(Thumbnail(image.Path));
            html.Append(CultureInfo.InvariantCulture,
                $"<figcaption><span class=\"wrong\">{E(evaluation.Labels[image.Predicted])} {Percent(image.PredictedProbability)}</span><br>true {E(evaluation.Labels[image.Label])} {Percent(image.LabelProbability)}<br><span class=\"muted\">{E(Path.GetFileName(image.Path))}</span></figcaption></figure>");
        }
        html.Append("</div>\n</body></html>\n");

        string temp = path + ".tmp";
        File.WriteAllText(temp, html.ToString(), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The run's facts (name, strategy, backbone, parameters, cut) beside its recipe.</summary>
    private static string Run(RunDescription run)
    {
        string Row(string name, string value) => $"<tr><th>{name}</th><td>{E(value)}</td></tr>";
        return new StringBuilder("<div class=\"run\"><table>")
            .Append(Row("run", run.Name ?? "–")).Append(Row("strategy", run.Strategy ?? "–")).Append(Row("backbone", run.Backbone))
            .Append(Row("backbone parameters", Count(run.BackboneParameters))).Append(Row("cut", run.Cut)).Append(Row("new head parameters", Count(run.HeadParameters)))
            .Append("</table><pre>").Append(E(run.Recipe)).Append("</pre></div>\n").ToString();
    }

    /// <summary>1,285 or 0.17 M: the precision a reader compares models by.</summary>
    private static string Count(long parameters) =>
        parameters >= 100_000 ? $"{(parameters / 1e6).ToString("0.00", CultureInfo.InvariantCulture)} M ({parameters.ToString("N0", CultureInfo.InvariantCulture)})" : parameters.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>All classes, or for large label sets the most confused ones (a 1000 x 1000 SVG helps nobody), in label order.</summary>
    private static IReadOnlyList<int> HeatMapClasses(Evaluation evaluation)
    {
        int n = evaluation.Labels.Count;
        if (n <= MaxHeatMapClasses) return [.. Enumerable.Range(0, n)];
        long Errors(int c) => Enumerable.Range(0, n).Where(o => o != c).Sum(o => evaluation.Count(c, o) + evaluation.Count(o, c));
        return [.. Enumerable.Range(0, n).OrderByDescending(Errors).ThenBy(c => c).Take(MaxHeatMapClasses).Order()];
    }

    private static SvgCharts.Series Series(string name, string color, IReadOnlyList<EpochMetrics> curves, Func<EpochMetrics, double> value) =>
        new(name, color, [.. curves.Select(m => ((double)m.Epoch, value(m)))]);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Percent(double value) => double.IsFinite(value) ? value.ToString("P1", CultureInfo.InvariantCulture) : "–";

    /// <summary>A small JPEG of the image as an inline img; a placeholder when the file can no longer be read.</summary>
    private static string Thumbnail(string imagePath)
    {
        PixelImage image;
        try
        {
            image = ImageDecoder.DecodeFile(imagePath, ChannelFormat.Rgb);
        }
        catch (ImageDecodeException e)
        {
            return $"<p class=\"muted\">({E(e.Message)})</p>";
        }
        double scale = Math.Min(1.0, (double)ThumbnailSize / Math.Max(image.Width, image.Height));
        image = ImageResampler.Resize(image, Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)));

        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            pixels[4 * i] = image.Pixels[3 * i];
            pixels[4 * i + 1] = image.Pixels[3 * i + 1];
            pixels[4 * i + 2] = image.Pixels[3 * i + 2];
            pixels[4 * i + 3] = 255;
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 85);
        return $"<img width=\"{image.Width}\" height=\"{image.Height}\" alt=\"\" src=\"data:image/jpeg;base64,{Convert.ToBase64String(data.AsSpan())}\">";
    }
}
