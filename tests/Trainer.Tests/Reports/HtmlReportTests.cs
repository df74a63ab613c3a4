using System.Text.RegularExpressions;
using OnnxTrainer.Inference;
using OnnxTrainer.Reports;
using OnnxTrainer.Tests.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Reports;

public class HtmlReportTests
{
    [Fact]
    public void Write_ManyClassesNoCurvesMissingImages_HeatMapOfMostConfusedAndPlaceholders()
    {
        var labels = Enumerable.Range(0, 60).Select(i => $"class <{i}>").ToList();
        var evaluation = new Evaluation(labels);
        for (int i = 0; i < 60; i++)
            evaluation.Add($"/missing/{i}.jpg", i, [new Prediction(labels[(i + i % 2) % 60], (i + i % 2) % 60, 0.9f), new Prediction(labels[i], i, 0.1f)]);
        using var folder = new TempFolder();
        string path = folder.File("report.html");

        HtmlReport.Write(path, evaluation, [], "model.onnx", "data");

        string html = File.ReadAllText(path);
        var heatMap = Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline).Single().Value;
        Assert.Equal(40 * 40, Regex.Matches(heatMap, "<rect").Count);
        Assert.Contains("Showing the 40 classes with the most errors of 60", html);
        Assert.DoesNotContain("Training curves", html);
        Assert.Contains("class &lt;1&gt;", html);
        Assert.Contains("Cannot read the file", html);
    }
}
