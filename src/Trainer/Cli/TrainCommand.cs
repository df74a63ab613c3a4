using OnnxTrainer.Reports;
using System.CommandLine;
using System.Text.Json;
using OnnxTrainer.Export;
using OnnxTrainer.Recipes;
using OnnxTrainer.Training;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary><c>onnx-trainer train RECIPE [--set key=value]... [--resume] [--device cpu|cuda] [--threads N] [--chunks N] [--out DIR]</c>.</summary>
public static class TrainCommand
{
    public const string ModelFile = "model.onnx";

    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "YAML recipe (see recipes/README.md)" };
        var set = RecipeOptions.Set();
        var resume = new Option<bool>("--resume") { Description = "continue from the run folder's checkpoint" };
        var device = RecipeOptions.Device();
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per session (default: one per core)" }
            .Within(0, "one per core", OptionBounds.MaxThreads, "4 per core");
        var chunks = new Option<int>("--chunks") { Description = "split each training batch into N chunks run at once, each on a share of the threads (default: up to one per thread where the trainable layers work over large planes; 1: off)" }
            .Within(0, "the trainer's choice", OptionBounds.MaxThreads, "4 per core");
        var output = RecipeOptions.Output();
        var command = new Command("train", "Train a classifier from a recipe: artifacts, training loop, checkpoints, model.onnx.") { recipe, set, resume, device, threads, chunks, output };
        command.SetAction(result => Run(result.GetValue(recipe)!, result.GetValue(set) ?? [], result.GetValue(resume),
            new ExecutionOptions(result.GetValue(device)!, result.GetValue(threads), result.GetValue(chunks)), result.GetValue(output)));
        return command;
    }

    private static int Run(string recipePath, string[] overrides, bool resume, ExecutionOptions execution, string? output)
    {
        execution.EnsureAvailable(); // before minutes of artifact building
        // Caught from here on: a signal during setup (minutes on a large backbone) ends it at its next phase, with exit code 3.
        using var stop = new StopSignal();
        var recipe = RecipeLoader.Load(recipePath, overrides);
        string runDirectory = RunFolder.Check(output, recipe);
        var setup = RunSetup.Prepare(recipe, stop);
        // Refused now rather than killed mid-epoch: the estimated peak must fit the memory this machine has available.
        if (execution.Device == ExecutionOptions.Cpu && AvailableMemory.Read() is { } available) MemoryEstimate.Of(setup).EnsureFits(available);
        foreach (var note in setup.Assembly.Notes) Console.WriteLine($"note: {TerminalText.Plain(note)}");
        var summary = TrainingRun.Execute(setup, new TrainingRunOptions(runDirectory, resume, execution), stop);
        if (!summary.Completed)
        {
            Console.Error.WriteLine($"error: {TerminalText.Plain(summary.StopReason)}");
            return CommandLine.Stopped;
        }
        var kept = summary.Kept;
        string modelPath = Path.Combine(runDirectory, ModelFile);
        ClassifierExporter.Save(setup.Assembly.Model, summary.Parameters,
            new ClassifierExport(summary.Classes, setup.Preprocessing, recipe.CanonicalYaml, MetricsJson(kept)), modelPath);
        if (kept is not null && !double.IsNaN(kept.ValAccuracy))
            AnsiConsole.MarkupLine($"validation accuracy [bold]{kept.ValAccuracy:P2}[/] (top-5 {kept.ValTop5:P2}, epoch {kept.Epoch + 1})");
        AnsiConsole.MarkupLine($"wrote {TerminalText.Markup(modelPath)}");
        return 0;
    }

    private static string MetricsJson(EpochMetrics? kept) => kept is null ? "{}" : JsonSerializer.Serialize(new Dictionary<string, double>
    {
        ["epoch"] = kept.Epoch + 1,
        ["val_accuracy"] = kept.ValAccuracy,
        ["val_top5"] = kept.ValTop5,
        ["val_loss"] = kept.ValLoss,
        ["train_accuracy"] = kept.TrainAccuracy,
        ["train_loss"] = kept.TrainLoss,
    }.Where(kv => double.IsFinite(kv.Value)).ToDictionary(), MetricsJsonContext.Default.DictionaryStringDouble);
}
