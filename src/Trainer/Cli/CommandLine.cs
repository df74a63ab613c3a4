using System.CommandLine;
using OnnxTrainer.Ir;
using OnnxTrainer.Data;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>The onnx-trainer command tree; each command lives in its own file.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        // Bind Spectre's console to the current stdout: it caches the writer it first saw (embedding callers and tests redirect it).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var root = new RootCommand("Train, export and inspect ONNX image classifiers by transfer learning.")
        {
            TrainCommand.Create(),
            ArtifactsCommand.Create(),
            InspectCommand.Create(),
            PredictCommand.Create(),
            EvaluateCommand.Create(),
            ExportCommand.Create(),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ModelFormatException or GraphException or IOException or RecipeException or DatasetException)
        {
            // Bad input is the user's to fix: one clear line, no stack trace.
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
