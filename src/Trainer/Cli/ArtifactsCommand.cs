using System.CommandLine;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Recipes;
using OnnxTrainer.Training;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>
/// <c>onnx-trainer artifacts RECIPE [--set key=value]... [--device cpu|cuda] [--out DIR]</c>: writes the first stage's training, eval
/// and optimizer graphs and the initial checkpoint, without training (for inspection, or to drive them from another runtime),
/// built for the device's provider (<see cref="ExecutionOptions.ResolvedTarget"/>).
/// </summary>
public static class ArtifactsCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "YAML recipe (see recipes/README.md)" };
        var set = RecipeOptions.Set();
        var device = RecipeOptions.Device();
        var output = RecipeOptions.Output();
        var command = new Command("artifacts", "Write training_model.onnx, eval_model.onnx, optimizer_model.onnx and the initial checkpoint.") { recipe, set, device, output };
        command.SetAction(result => Run(result.GetValue(recipe)!, result.GetValue(set) ?? [], new ExecutionOptions(result.GetValue(device)!), result.GetValue(output)));
        return command;
    }

    private static int Run(string recipePath, string[] overrides, ExecutionOptions execution, string? output)
    {
        var recipe = RecipeLoader.Load(recipePath, overrides);
        string directory = RunFolder.Check(output, recipe);
        var setup = RunSetup.Prepare(recipe);
        foreach (var note in setup.Assembly.Notes) Console.WriteLine($"note: {TerminalText.Plain(note)}");
        Directory.CreateDirectory(directory);
        var parameters = setup.InitialParameters();
        var stage = setup.Plan.Stages[0];
        var graphs = StageGraphs.Build(setup.ForwardWith(parameters), stage, recipe.Optimizer, setup.Loss, setup.TrainsBatchNorm, recipe.Seed, execution.ResolvedTarget);
        graphs.Write(directory);
        new Checkpoint
        {
            Step = 0,
            Epoch = 0,
            LearningRate = stage.LearningRate,
            RecipeHash = recipe.Hash,
            TrainableParameters = stage.Trainable,
            Tensors = new Dictionary<string, Ir.Tensor>(parameters),
        }.Save(directory);
        AnsiConsole.MarkupLine($"wrote {StageGraphs.TrainingFile}, {StageGraphs.EvalFile}, {StageGraphs.OptimizerFile} and the checkpoint to {TerminalText.Markup(directory)} ({stage.Trainable.Count} trainable tensors)");
        return 0;
    }
}
