using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary><c>onnx-trainer predict MODEL.onnx IMAGE... [--top K] [--json]</c>: the top-k classes of each image.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "exported classifier (model.onnx)" };
        var images = new Argument<string[]>("images") { Description = "image files", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top") { Description = "classes to show per image", DefaultValueFactory = _ => 5 };
        top.Validators.Add(r => { if (r.GetValue(top) < 1) r.AddError($"--top must be at least 1 (got {r.GetValue(top)})"); });
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("predict", "Classify images with an exported model.") { model, images, top, json };
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(images)!, result.GetValue(top), result.GetValue(json)));
        return command;
    }

    /// <summary>Every image is tried; one that cannot be read, or that the model scores as NaN or infinity, is reported on stderr and the exit code says so.</summary>
    private static int Run(string modelPath, string[] images, int top, bool json)
    {
        using var classifier = CheckedClassifier.Load(modelPath, top);
        var results = new List<(string Image, IReadOnlyList<Prediction>? Predictions, string? Error)>();
        foreach (var image in images)
        {
            try
            {
                var predictions = classifier.Classify(image);
                if (predictions.Any(p => !float.IsFinite(p.Probability)))
                    throw new ImageDecodeException(DecodeFailure.Corrupt, $"{image}: {modelPath} gives NaN or infinite scores for it: the model is broken.");
                results.Add((image, predictions, null));
            }
            catch (ImageDecodeException e)
            {
                Console.Error.WriteLine($"error: {TerminalText.Plain(e.Message)}");
                results.Add((image, null, e.Message));
            }
        }

        if (json) Console.WriteLine(Json(results).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else Print(results);
        return results.Any(r => r.Error is not null) ? CommandLine.BadInput : 0;
    }

    private static JsonArray Json(List<(string Image, IReadOnlyList<Prediction>? Predictions, string? Error)> results) =>
        new([.. results.Select(r => (JsonNode)(r.Predictions is null
            ? new JsonObject { ["image"] = r.Image, ["error"] = r.Error }
            : new JsonObject
            {
                ["image"] = r.Image,
                ["predictions"] = new JsonArray([.. r.Predictions.Select(p => (JsonNode)new JsonObject
                {
                    ["label"] = p.Label, ["index"] = p.Index, ["probability"] = p.Probability,
                })]),
            }))]);

    private static void Print(List<(string Image, IReadOnlyList<Prediction>? Predictions, string? Error)> results)
    {
        var table = new Table().AddColumns("image", "rank", "label", "probability");
        foreach (var (image, predictions, _) in results)
        {
            if (predictions is null) continue;
            for (int rank = 0; rank < predictions.Count; rank++)
                table.AddRow(rank == 0 ? TerminalText.Markup(image) : "", $"{rank + 1}", TerminalText.Markup(predictions[rank].Label), $"{predictions[rank].Probability:P2}");
        }
        AnsiConsole.Console.Write(table);
    }
}
