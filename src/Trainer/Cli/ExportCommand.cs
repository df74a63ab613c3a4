using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Data;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Reports;
using OnnxTrainer.Training;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>
/// <c>onnx-trainer export RUN_DIR --format fp32|fp16|int8 [--calibration DATA] [--validation DATA]</c>:
/// writes RUN_DIR/model.&lt;format&gt;.onnx from the run's model.onnx and, given validation images,
/// compares size and accuracy of model.onnx and every model.&lt;format&gt;.onnx in RUN_DIR side by side.
/// </summary>
public static class ExportCommand
{
    private const string ModelFile = "model.onnx";
    private static readonly string[] Formats = ["fp32", "fp16", "int8"];
    private const int CalibrationBatch = 16;

    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "run folder holding model.onnx (artifacts/<name>)" };
        var format = new Option<string>("--format") { Description = "fp32, fp16 (float16 weights) or int8 (static QDQ)", DefaultValueFactory = _ => "fp32" };
        format.AcceptOnlyFromAmong(Formats);
        var calibration = new Option<string?>("--calibration") { Description = "images for int8 activation ranges: DATA/<class>/<image> (the training set)" };
        var calibrationImages = new Option<int>("--calibration-images") { Description = "how many calibration images to use, spread over the classes", DefaultValueFactory = _ => 200 }
            .Within(1, "", int.MaxValue, "");
        var validation = new Option<string?>("--validation") { Description = "labelled images to compare the accuracy of fp32 and the new format" };
        var json = new Option<bool>("--json") { Description = "print the comparison as JSON" };
        var command = new Command("export", "Write the run's model in another number format, with a size and accuracy comparison.")
        {
            run, format, calibration, calibrationImages, validation, json,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(format) == "int8" && r.GetValue(calibration) is null) r.AddError("--format int8 needs --calibration DATA (images to measure activation ranges on)");
        });
        command.SetAction(result => Run(result.GetValue(run)!, result.GetValue(format)!, result.GetValue(calibration), result.GetValue(calibrationImages),
            result.GetValue(validation), result.GetValue(json)));
        return command;
    }

    private static int Run(string runDirectory, string format, string? calibration, int calibrationImages, string? validation, bool json)
    {
        string source = Path.Combine(runDirectory, ModelFile);
        if (!File.Exists(source)) throw new FileNotFoundException($"{source} not found: export reads the model a training run wrote", source);
        string target = Path.Combine(runDirectory, $"model.{format}.onnx");
        var model = ModelReader.LoadImageModel(source);
        var progress = LiveProgress.ToStandardError();
        var converted = format switch
        {
            "fp16" => Float16Weights.Convert(model),
            "int8" => Calibrate(model, calibration!, calibrationImages, progress),
            _ => model,
        };
        ModelWriter.Save(converted, target);
        Console.Error.WriteLine($"wrote {TerminalText.Plain(target)}");

        // Side by side: the run's model and every format exported from it so far.
        var rows = new List<(string Format, string Path, Evaluation? Evaluation)> { ("fp32", source, null) };
        foreach (var other in Formats.Skip(1).Where(f => File.Exists(Path.Combine(runDirectory, $"model.{f}.onnx"))))
            rows.Add((other, Path.Combine(runDirectory, $"model.{other}.onnx"), null));
        if (validation is not null)
            rows = [.. rows.Select(r => (r.Format, r.Path, (Evaluation?)Evaluate(r.Format, r.Path, validation, progress)))];
        if (json) Console.WriteLine(Json(rows).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else Print(rows);
        return 0;
    }

    /// <summary>int8 with activation ranges measured on up to <paramref name="count"/> images, a stratified sample of the folder.</summary>
    private static Model Calibrate(Model model, string data, int count, LiveProgress progress)
    {
        var preprocessing = PreprocessingSpec.FromMetadata(model.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
        var dataset = ImageDataset.FromFolder(data);
        if (count < dataset.Count) dataset = dataset.SplitStratified((double)count / dataset.Count, seed: 0).Validation;
        var loader = new DataLoader(dataset, preprocessing, new DataLoaderOptions { BatchSize = CalibrationBatch });
        return progress.Run("int8 calibration", loader.BatchesPerEpoch, "batches", phase => Int8Quantizer.Quantize(model, Counted(loader.ReadEpoch(0), phase)));
    }

    /// <summary>The batches, each counted once the quantizer has run it (when it asks for the next).</summary>
    private static IEnumerable<(float[] Images, long[] Shape)> Counted(IEnumerable<DataBatch> batches, PhaseProgress phase)
    {
        foreach (var batch in batches)
        {
            yield return (batch.Images, batch.Shape);
            phase.Advance(1, batch.Count);
        }
    }

    private static Evaluation Evaluate(string format, string modelPath, string data, LiveProgress progress)
    {
        using var classifier = CheckedClassifier.Load(modelPath, int.MaxValue);
        var dataset = ImageDataset.FromFolder(data);
        return progress.Run($"evaluating {format}", dataset.Count, "images", phase => DatasetEvaluator.Run(classifier, dataset, done => phase.Advance(done, done)).Evaluation);
    }

    private static JsonArray Json(List<(string Format, string Path, Evaluation? Evaluation)> rows) =>
        new([.. rows.Select(r => (JsonNode)new JsonObject
        {
            ["format"] = r.Format,
            ["path"] = r.Path,
            ["bytes"] = new FileInfo(r.Path).Length,
            ["accuracy"] = r.Evaluation?.Accuracy,
            ["top5_accuracy"] = r.Evaluation?.TopNAccuracy,
            ["images"] = r.Evaluation?.Total,
        })]);

    private static void Print(List<(string Format, string Path, Evaluation? Evaluation)> rows)
    {
        var table = new Table().AddColumns("format", "file", "size", "accuracy", $"top-{Evaluation.TopN}");
        long baseline = new FileInfo(rows[0].Path).Length;
        foreach (var (format, path, evaluation) in rows)
        {
            long size = new FileInfo(path).Length;
            table.AddRow(format, TerminalText.Markup(Path.GetFileName(path)), $"{size / 1048576.0:F2} MB ({(double)size / baseline:P0})",
                evaluation is null ? "–" : $"{evaluation.Accuracy:P2}", evaluation is null ? "–" : $"{evaluation.TopNAccuracy:P2}");
        }
        AnsiConsole.Console.Write(table);
    }
}
