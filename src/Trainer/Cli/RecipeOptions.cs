using System.CommandLine;

namespace OnnxTrainer.Cli;

/// <summary>Options shared by the commands that read a recipe.</summary>
internal static class RecipeOptions
{
    public static Option<string[]> Set() => new("--set")
    {
        Description = "override a recipe field, e.g. --set optimizer.learning_rate=0.01 (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string?> Output() => new("--out") { Description = "run folder (default: artifacts/<recipe name>)" };
}
