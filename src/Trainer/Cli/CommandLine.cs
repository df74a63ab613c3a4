using System.CommandLine;
using OnnxTrainer.Ir;
using OnnxTrainer.Data;
using OnnxTrainer.Inference;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>The onnx-trainer command tree; each command lives in its own file.</summary>
public static class CommandLine
{
    /// <summary>Exit code where what the command needs is missing on this machine (a GPU, its driver or libraries).</summary>
    public const int Unavailable = 1;

    /// <summary>Exit code of a command line that does not parse (unknown option or value).</summary>
    public const int UsageError = 2;

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
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0 && parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
            {
                parsed.Invoke(); // prints the errors and the command's usage
                return UsageError;
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ExecutionProviderUnavailableException e)
        {
            // A missing GPU, driver or library: one line saying what is missing and how to get it.
            Console.Error.WriteLine($"error: {e.Message}");
            return Unavailable;
        }
        catch (Exception e) when (e is ModelFormatException or GraphException or IOException or RecipeException or DatasetException)
        {
            // Bad input is the user's to fix: one clear line, no stack trace.
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
