using System.CommandLine;
using OnnxTrainer.Recipes;
using OnnxTrainer.Training;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary><c>onnx-trainer train RECIPE [--set key=value]... [--resume] [--device cpu|cuda] [--out DIR]</c>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "YAML recipe (see recipes/README.md)" };
        var set = RecipeOptions.Set();
        var resume = new Option<bool>("--resume") { Description = "continue from the run folder's checkpoint" };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var output = RecipeOptions.Output();
        var command = new Command("train", "Train a classifier from a recipe: artifacts, training loop, checkpoints, model.onnx.") { recipe, set, resume, device, output };
        command.SetAction(result => Run(result.GetValue(recipe)!, result.GetValue(set) ?? [], result.GetValue(resume), result.GetValue(device)!, result.GetValue(output)));
        return command;
    }

    private static int Run(string recipePath, string[] overrides, bool resume, string device, string? output)
    {
        var recipe = RecipeLoader.Load(recipePath, overrides);
        var setup = RunSetup.Prepare(recipe);
        string runDirectory = output ?? Path.Combine("artifacts", recipe.Name);
        using var stop = new StopSignal();
        var summary = TrainingRun.Execute(setup, new TrainingRunOptions(runDirectory, resume, new ExecutionOptions(device)), stop);
        if (!summary.Completed)
        {
            Console.Error.WriteLine($"error: {summary.StopReason}");
            return 3;
        }
        var last = summary.Epochs.LastOrDefault();
        if (last is not null && !double.IsNaN(last.ValAccuracy))
            AnsiConsole.MarkupLineInterpolated($"validation accuracy [bold]{summary.Epochs.Max(e => e.ValAccuracy):P2}[/] (best epoch), run folder {runDirectory}");
        return 0;
    }
}
