using System.CommandLine;
using OnnxTrainer.Training;

namespace OnnxTrainer.Cli;

/// <summary>Options shared by the commands that read a recipe.</summary>
internal static class RecipeOptions
{
    public static Option<string[]> Set() => new("--set")
    {
        Description = "override a recipe field, e.g. --set optimizer.learning_rate=0.01 (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The device to train on, or to build the graphs for (cpu or cuda).</summary>
    public static Option<string> Device()
    {
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => ExecutionOptions.Cpu };
        device.AcceptOnlyFromAmong([.. ExecutionOptions.Devices]);
        return device;
    }

    public static Option<string?> Output() => new("--out") { Description = "run folder (default: artifacts/<recipe name>)" };
}
