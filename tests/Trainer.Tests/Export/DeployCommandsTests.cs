using OnnxTrainer.Reports;
using System.Globalization;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using OnnxTrainer.Cli;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Tests.Cli;
using OnnxTrainer.Tests.Data;
using OnnxTrainer.Training;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace OnnxTrainer.Tests.Export;

/// <summary><c>predict</c> and <c>evaluate</c> on an exported model, and the HTML report in a real browser.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class DeployCommandsTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TemporaryDirectory _tree = new();
    private readonly string _data;
    private readonly string _model;

    public DeployCommandsTests(ITestOutputHelper output)
    {
        _output = output;
        var run = TrainedClassifier.Create();
        _data = Path.Combine(_tree.Root, "data");
        for (int i = 0; i < 12; i++)
            _tree.Write($"data/{run.Export.Labels[i % 4]}/{i}.{(i % 2 == 0 ? "png" : "jpg")}",
                TemporaryDirectory.Picture(i, i % 2 == 0 ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, width: 70 + i, height: 66));
        // Labels in dataset order (sorted), as training would write them.
        var labels = run.Export.Labels.Order(StringComparer.Ordinal).ToList();
        run = TrainedClassifier.Create(labels: labels);
        _model = Path.Combine(_tree.Root, "model.onnx");
        ClassifierExporter.Save(run.Forward, run.Parameters, run.Export, _model);
    }

    public void Dispose() => _tree.Dispose();

    private string[] Images => [.. Directory.EnumerateFiles(_data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    [Fact]
    public void Predict_Json_TopKOfEachImageAsTheLibraryGivesThem()
    {
        var (code, output, _) = ConsoleCapture.Run(["predict", _model, .. Images.Take(3), "--top", "2", "--json"]);

        Assert.Equal(0, code);
        var results = JsonNode.Parse(output)!.AsArray();
        using var classifier = ImageClassifier.Load(_model, new ClassifierOptions { TopK = 2 });
        Assert.Equal(3, results.Count);
        foreach (var result in results)
        {
            var expected = classifier.Classify((string)result!["image"]!);
            var predictions = result["predictions"]!.AsArray();
            Assert.Equal(expected.Select(p => p.Label), predictions.Select(p => (string)p!["label"]!));
            Assert.Equal(expected.Select(p => p.Probability), predictions.Select(p => (float)p!["probability"]!));
        }
    }

    [Fact]
    public void Predict_OneImageUnreadable_OthersClassifiedErrorNamesItExitNonZero()
    {
        string bad = _tree.Write("bad.jpg", "not an image"u8.ToArray());

        var (code, output, error) = ConsoleCapture.Run("predict", _model, Images[0], bad, "--json");

        Assert.Equal(CommandLine.BadInput, code);
        Assert.Contains(bad, error);
        var results = JsonNode.Parse(output)!.AsArray();
        using var classifier = ImageClassifier.Load(_model, new ClassifierOptions { TopK = 5 });
        Assert.Equal(classifier.Classify(Images[0]).Select(p => p.Label), results[0]!["predictions"]!.AsArray().Select(p => (string)p!["label"]!));
        Assert.Equal(bad, (string)results[1]!["image"]!);
        Assert.Contains("Not a supported image", (string)results[1]!["error"]!, StringComparison.Ordinal);
        Assert.Null(results[1]!["predictions"]);
    }

    [Fact]
    public void Predict_ModelWithoutMetadata_OneLineErrorNamingTheKey()
    {
        var model = OnnxTrainer.Onnx.ModelReader.Load(_model);
        model.Metadata.Clear();
        string bare = Path.Combine(_tree.Root, "bare.onnx");
        OnnxTrainer.Onnx.ModelWriter.Save(model, bare);

        var (code, _, error) = ConsoleCapture.Run("predict", bare, Images[0]);

        Assert.Equal(CommandLine.BadInput, code);
        Assert.Contains("input_size", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Evaluate_Json_ConfusionMatrixAccuracyAndPerClassAgree()
    {
        var (code, output, _) = ConsoleCapture.Run("evaluate", _model, _data, "--json");

        Assert.Equal(0, code);
        var report = JsonNode.Parse(output)!;
        Assert.Equal(12, (int)report["images"]!);
        var matrix = report["confusion_matrix"]!.AsArray().Select(row => row!.AsArray().Select(v => (int)v!).ToArray()).ToArray();
        Assert.Equal(12, matrix.Sum(row => row.Sum()));
        Assert.Equal(Enumerable.Range(0, 4).Sum(i => matrix[i][i]) / 12.0, (double)report["accuracy"]!, 12);
        Assert.Equal(1.0, (double)report["top5_accuracy"]!);
        Assert.All(report["classes"]!.AsArray(), c => Assert.Equal(3, (int)c!["support"]!));
    }

    [Fact]
    public void Evaluate_DataClassUnknownToModel_ErrorNamesIt()
    {
        _tree.Write("data/zebra/0.png", TemporaryDirectory.Picture(99));
        var (code, _, error) = ConsoleCapture.Run("evaluate", _model, _data);
        Assert.Equal(CommandLine.BadInput, code);
        Assert.Contains("'zebra'", error);
    }

    [Fact]
    public void Evaluate_Report_SelfContainedAndRendersInHeadlessChromium()
    {
        string metrics = Path.Combine(_tree.Root, "metrics.jsonl");
        var log = new MetricsLog(metrics);
        for (int epoch = 1; epoch <= 6; epoch++)
            log.Append(new EpochMetrics(epoch, 0, 0.01 / epoch, 2.0 / epoch, 0.3 + epoch * 0.1, 2.2 / epoch, 0.25 + epoch * 0.09, 0.9, 100, 1));
        string report = Path.Combine(_tree.Root, "report.html");

        var (code, _, error) = ConsoleCapture.Run("evaluate", _model, _data, "--report", report, "--metrics", metrics, "--json");

        Assert.True(code == 0, error);
        string html = File.ReadAllText(report);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(?!data:)"), html);
        var svgs = Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline);
        Assert.Equal(4, svgs.Count); // loss, accuracy, learning rate, confusion matrix
        foreach (Match svg in svgs) XDocument.Parse(svg.Value);
        Assert.Contains("data:image/jpeg;base64,", html);

        // At the top, the run: the recipe's facts and the parameters of backbone and new head, counted in the model.
        long head = TrainedClassifier.Create().Parameters.Where(p => p.Key.StartsWith("head.", StringComparison.Ordinal)).Sum(p => p.Value.ElementCount());
        Assert.Contains("<th>strategy</th><td>fine-tune</td>", html);
        Assert.Contains($"<th>new head parameters</th><td>{head.ToString("N0", CultureInfo.InvariantCulture)}</td>", html);
        Assert.True(html.IndexOf("<th>run</th><td>test</td>", StringComparison.Ordinal) < html.IndexOf("Training curves", StringComparison.Ordinal));

        // Ticks at round numbers, accuracy in percent, one epoch axis (1-6) for loss, accuracy and learning rate.
        static string[] Ticks(Match svg, string anchor) =>
            [.. Regex.Matches(svg.Value, $"text-anchor=\"{anchor}\">([^<]+)</text>").Select(m => m.Groups[1].Value)];
        Assert.Equal(["0", "0.5", "1", "1.5", "2", "2.5"], Ticks(svgs[0], "end"));
        Assert.Equal(["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"], Ticks(svgs[1], "end"));
        Assert.Equal(["0", "0.005", "0.01"], Ticks(svgs[2], "end"));
        foreach (var chart in svgs.Take(3))
            Assert.Equal(["1", "2", "3", "4", "5", "6", "epoch"], Ticks(chart, "middle"));

        Screenshot(report);
    }

    /// <summary>Renders the report in headless Chromium (Debian package <c>chromium</c>; scripts/setup.sh installs it) and checks the picture is not blank.</summary>
    private void Screenshot(string report)
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            _output.WriteLine($"SKIPPED the browser check: {chromium} is not installed (apt-get install chromium; scripts/setup.sh does it)");
            return;
        }
        string png = Path.Combine(_tree.Root, "report.png");
        var start = new ProcessStartInfo(chromium,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", $"--user-data-dir={Path.Combine(_tree.Root, "chromium-profile")}",
            $"--screenshot={png}", "--window-size=1200,1600", new Uri(report).AbsoluteUri,
        ]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var browser = Process.Start(start)!;
        var stderr = browser.StandardError.ReadToEndAsync();
        Assert.True(browser.WaitForExit(120_000), "chromium did not finish within 2 minutes");
        _output.WriteLine(stderr.Result);
        Assert.True(browser.ExitCode == 0 && File.Exists(png), $"chromium failed ({browser.ExitCode}): {stderr.Result}");

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((1200, 1600), (bitmap.Width, bitmap.Height));
        var colors = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 8)
            for (int x = 0; x < bitmap.Width; x += 8)
                colors.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colors.Count > 20, $"the screenshot looks blank ({colors.Count} colors)");
        // REPORT_SCREENSHOT=/some/file.png keeps the picture for a person to look at (the issue asks for that).
        string keep = Environment.GetEnvironmentVariable("REPORT_SCREENSHOT") ?? "";
        if (keep.Length > 0) File.Copy(png, keep, overwrite: true);
    }
}
