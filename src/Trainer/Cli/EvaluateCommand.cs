using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Data;
using OnnxTrainer.Inference;
using OnnxTrainer.Reports;
using OnnxTrainer.Training;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>
/// <c>onnx-trainer evaluate MODEL.onnx DATA [--report FILE.html] [--metrics RUN/metrics.jsonl] [--json]</c>:
/// accuracy, top-5, per-class precision/recall/F1 and the confusion matrix on an ImageFolder tree.
/// </summary>
public static class EvaluateCommand
{
    /// <summary>Largest metrics log read (64 MB: a line per epoch is some hundred bytes).</summary>
    private const long MaxMetricsBytes = 64L << 20;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "exported classifier (model.onnx)" };
        var data = new Argument<string>("data") { Description = "labelled images: DATA/<class>/<image>" };
        var report = new Option<string?>("--report") { Description = "write a self-contained HTML report to this file" };
        var metrics = new Option<string?>("--metrics") { Description = "the run's metrics log (metrics.jsonl), drawn as training curves in the report" };
        var json = new Option<bool>("--json") { Description = "print the metrics as JSON" };
        var command = new Command("evaluate", "Measure an exported classifier on labelled images.") { model, data, report, metrics, json };
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(data)!, result.GetValue(report), result.GetValue(metrics), result.GetValue(json)));
        return command;
    }

    private static int Run(string modelPath, string dataPath, string? reportPath, string? metricsPath, bool json)
    {
        var curves = metricsPath is null ? [] : ReadCurves(metricsPath);
        using var classifier = CheckedClassifier.Load(modelPath, int.MaxValue);
        var dataset = ImageDataset.FromFolder(dataPath);
        var (evaluation, skipped) = Evaluate(classifier, dataset);
        if (json) Console.WriteLine(Json(evaluation, skipped).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else Print(evaluation, skipped);
        if (reportPath is not null)
        {
            HtmlReport.Write(reportPath, evaluation, curves, modelPath, dataPath, RunDescriptionReader.Read(modelPath));
            Console.Error.WriteLine($"report written to {TerminalText.Plain(reportPath)}");
        }
        return 0;
    }

    private static IReadOnlyList<EpochMetrics> ReadCurves(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"metrics log not found: {path}", path);
        try
        {
            BoundedFile.CheckedLength(path, MaxMetricsBytes); // a regular file: a pipe here would block the read
            return MetricsLog.Read(path);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not a metrics log (one JSON object per line): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new IOException($"{path}: cannot read the metrics log: {e.Message}", e);
        }
    }

    private static (Evaluation Evaluation, IReadOnlyList<string> Skipped) Evaluate(ImageClassifier classifier, ImageDataset dataset) =>
        LiveProgress.ToStandardError().Run("evaluating", dataset.Count, "images",
            progress => DatasetEvaluator.Run(classifier, dataset, done => progress.Advance(done, done)));

    private static JsonObject Json(Evaluation evaluation, IReadOnlyList<string> skipped) => new()
    {
        ["images"] = evaluation.Total,
        ["accuracy"] = evaluation.Accuracy,
        ["top5_accuracy"] = evaluation.TopNAccuracy,
        ["classes"] = new JsonArray([.. evaluation.PerClass().Select(c => (JsonNode)new JsonObject
        {
            ["label"] = c.Label, ["precision"] = Number(c.Precision), ["recall"] = Number(c.Recall), ["f1"] = Number(c.F1), ["support"] = c.Support,
        })]),
        ["confusion_matrix"] = new JsonArray([.. Enumerable.Range(0, evaluation.Labels.Count).Select(row =>
            (JsonNode)new JsonArray([.. Enumerable.Range(0, evaluation.Labels.Count).Select(column => (JsonNode)evaluation.Count(row, column))]))]),
        ["skipped"] = new JsonArray([.. skipped.Select(s => (JsonNode)s)]),
    };

    /// <summary>JSON has no NaN: an undefined metric (a class never predicted or never present) is null.</summary>
    private static JsonNode? Number(double value) => double.IsFinite(value) ? value : null;

    private static void Print(Evaluation evaluation, IReadOnlyList<string> skipped)
    {
        var console = AnsiConsole.Console;
        console.MarkupLineInterpolated($"images [bold]{evaluation.Total}[/], accuracy [bold]{evaluation.Accuracy:P2}[/], top-{Evaluation.TopN} [bold]{evaluation.TopNAccuracy:P2}[/]");
        if (skipped.Count > 0)
        {
            console.MarkupLine($"[yellow]skipped {skipped.Count} unreadable image(s)[/]");
            foreach (var s in skipped) console.MarkupLine($"  {TerminalText.Markup(s)}");
        }

        var perClass = new Table().AddColumns("class", "precision", "recall", "F1", "images");
        foreach (var c in evaluation.PerClass())
            perClass.AddRow(TerminalText.Markup(c.Label), Format(c.Precision), Format(c.Recall), Format(c.F1), $"{c.Support}");
        console.Write(perClass);

        var confusion = new Table().AddColumn("true \\ predicted");
        foreach (var label in evaluation.Labels) confusion.AddColumn(TerminalText.Markup(label));
        for (int row = 0; row < evaluation.Labels.Count; row++)
            confusion.AddRow([TerminalText.Markup(evaluation.Labels[row]), .. Enumerable.Range(0, evaluation.Labels.Count)
                .Select(column => row == column ? $"[bold]{evaluation.Count(row, column)}[/]" : $"{evaluation.Count(row, column)}")]);
        console.Write(confusion);
    }

    private static string Format(double value) => double.IsFinite(value) ? $"{value:P1}" : "–";
}
