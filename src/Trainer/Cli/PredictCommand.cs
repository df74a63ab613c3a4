using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
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
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("predict", "Classify images with an exported model.") { model, images, top, json };
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(images)!, result.GetValue(top), result.GetValue(json)));
        return command;
    }

    /// <summary>Every image is tried; one that cannot be read is reported on stderr and the exit code says so.</summary>
    private static int Run(string modelPath, string[] images, int top, bool json)
    {
        ImageClassifier classifier;
        try
        {
            classifier = ImageClassifier.Load(modelPath, new ClassifierOptions { TopK = top });
        }
        catch (Exception e) when (CommandErrors.IsBadInput(e))
        {
            return CommandErrors.Report(e);
        }

        using (classifier)
        {
            var results = new List<(string Image, IReadOnlyList<Prediction>? Predictions, string? Error)>();
            foreach (var image in images)
            {
                try
                {
                    results.Add((image, classifier.Classify(image), null));
                }
                catch (ImageDecodeException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    results.Add((image, null, e.Message));
                }
            }

            if (json) Console.WriteLine(Json(results).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else Print(results);
            return results.Any(r => r.Error is not null) ? CommandErrors.BadInput : 0;
        }
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
                table.AddRow(rank == 0 ? Markup.Escape(image) : "", $"{rank + 1}", Markup.Escape(predictions[rank].Label), $"{predictions[rank].Probability:P2}");
        }
        AnsiConsole.Console.Write(table);
    }
}
