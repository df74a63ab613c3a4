using System.Text.Json.Nodes;
using OnnxTrainer.Cli;
using OnnxTrainer.Terminal;
using Xunit;

namespace OnnxTrainer.Tests.Hostile;

/// <summary>
/// Names from a model or the data reach the terminal as text: a '[' is printed, not parsed as markup (it crashed the
/// console), and control characters are escaped (an ESC could repaint the terminal, a newline split a one-line error).
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ConsoleTextTests : IDisposable
{
    private const string Escape = "\u001b]0;pwned\u0007\u001b[31m";

    private readonly HostileFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Plain_ControlCharacters_ShownAsEscapesOnOneLine()
    {
        Assert.Equal(@"a\nb\e[31m\u0007\u202E", TerminalText.Plain("a\nb\u001b[31m\u0007\u202e"));
        Assert.Equal("[[x]] ünïcode", TerminalText.Markup("[x] ünïcode"));
    }

    [Fact]
    public void Inspect_NodeAndTensorNamesWithMarkupAndEscapes_PrintedAsText()
    {
        string model = _files.Model("names.onnx", m =>
        {
            m.Graph.Nodes.First(n => n.OpType == "Conv").Name = "[red]conv" + Escape;
            m.Graph.Outputs[0].Name = "logits[/]\nfake line";
        });

        var (code, output, error) = ConsoleCapture.Run("inspect", model);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains(@"[red]conv\e]0;pwned\u0007\e[31m", output);
        Assert.Contains(@"logits[/]\nfake line", output);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u0007', output);
    }

    [Fact]
    public void Predict_LabelsWithMarkupAndEscapes_TableAndJsonKeepThemAsText()
    {
        string[] labels = ["[bold", "cat" + Escape, "dog]", "fish"];
        string model = _files.Classifier("labels.onnx", labels);
        string image = _files.Image("[x].png");

        var (code, output, error) = ConsoleCapture.Run("predict", model, image, "--top", "4");
        var (jsonCode, json, _) = ConsoleCapture.Run("predict", model, image, "--top", "4", "--json");

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.Equal("", error);
        Assert.Contains("[x].png", output);
        Assert.Contains("[bold", output);
        Assert.Contains(@"cat\e]0;pwned\u0007\e[31m", output);
        Assert.DoesNotContain('\u001b', output);
        var predicted = JsonNode.Parse(json)![0]!["predictions"]!.AsArray().Select(p => (string)p!["label"]!);
        Assert.Equal(labels.Order(StringComparer.Ordinal), predicted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Train_ClassFoldersWithMarkupAndEscapes_RunPrintsThemAsText()
    {
        string[] classes = ["[bold", "cat" + Escape];
        for (int i = 0; i < 4; i++) _files.Image($"data/{classes[i % 2]}/{i}.png", seed: i);
        string recipe = _files.Write("recipe.yaml", $$"""
            name: names
            backbone: { path: {{OnnxTrainer.Tests.Fixtures.GeneratedFixtures.ModelPath("resnet_small")}} }
            strategy: feature-extraction
            data: { train: { path: {{_files.Path("data")}} } }
            epochs: 1
            batch_size: 2
            """);

        var (code, output, error) = ConsoleCapture.Run("train", recipe, "--out", _files.Path("run"));

        Assert.True(code == 0, error);
        Assert.Contains(@"classes (2): [bold 2, cat\e]0;pwned\u0007\e[31m 2", output);
        Assert.DoesNotContain('\u001b', output + error);
    }

    [Fact]
    public void Error_MessageQuotingAControlCharacterName_StaysOneEscapedLine()
    {
        string model = _files.Write("bad\nname\u001b[2J.onnx", [0x0a, 0xff, 0xff]);

        var (code, _, error) = ConsoleCapture.Run("inspect", model);

        Assert.Equal(CommandLine.BadInput, code);
        Assert.Contains(@"bad\nname\e[2J.onnx", Assert.Single(error.TrimEnd('\n').Split('\n')));
    }
}
