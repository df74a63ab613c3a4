using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;
using OnnxTrainer.Terminal;
using OnnxTrainer.Training;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>
/// The onnx-trainer command tree (each command lives in its own file) and the one boundary where errors become exit codes:
/// every exception a command lets out is printed here as one line on stderr (control characters escaped), with its stack
/// trace only under <c>--verbose</c>.
/// </summary>
public static class CommandLine
{
    /// <summary>Exit code of a command that could not use its input (a file, the data, a model) or whose device is missing here.</summary>
    public const int BadInput = 1;

    /// <summary>Exit code of a command line that does not parse (unknown option or value, an option out of range).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a training run stopped before its end (Ctrl+C, SIGTERM, or the loss diverged).</summary>
    public const int Stopped = 3;

    public static int Run(string[] args)
    {
        // Bind Spectre's console to the current stdout: it caches the writer it first saw (embedding callers and tests redirect it).
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var verbose = new Option<bool>("--verbose") { Description = "on an error, also print its stack trace and ONNX Runtime's own log", Recursive = true };
        var root = new RootCommand("Train, export and inspect ONNX image classifiers by transfer learning.")
        {
            TrainCommand.Create(),
            ArtifactsCommand.Create(),
            InspectCommand.Create(),
            PredictCommand.Create(),
            EvaluateCommand.Create(),
            ExportCommand.Create(),
        };
        root.Options.Add(verbose);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            parsed.Invoke(); // prints the errors and the command's usage
            return UsageError;
        }
        bool showDetails = parsed.GetValue(verbose);
        try
        {
            QuietOnnxRuntime(showDetails);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            var error = Unwrapped(e);
            Console.Error.WriteLine($"error: {TerminalText.Plain(Message(error))}");
            if (showDetails) Console.Error.WriteLine(error.ToString());
            return error is OperationCanceledException ? Stopped : BadInput;
        }
    }

    /// <summary>
    /// ONNX Runtime logs its own errors, coloured, before it throws them; the exception says the same thing and is reported
    /// here once. Its warnings (a node placed on another device) are kept for <c>--verbose</c>.
    /// </summary>
    private static void QuietOnnxRuntime(bool verbose)
    {
        SharedThreadPool.EnsureCreated(); // the environment must be made by the pool, before anything else touches ONNX Runtime
        OrtEnv.Instance().EnvLogLevel = verbose ? OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING : OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
    }

    private static Exception Unwrapped(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrapped(a.InnerExceptions[0]),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrapped(inner),
        _ => e,
    };

    /// <summary>Bad input is the user's to fix and says what to fix; anything else is a bug in onnx-trainer and says so.</summary>
    private static string Message(Exception e) => e switch
    {
        OnnxRuntimeException => $"ONNX Runtime rejected the model: {e.Message}",
        OperationCanceledException => e.Message,
        ModelFormatException or GraphException or IOException or UnauthorizedAccessException or RecipeException or DatasetException
            or CheckpointFormatException or ImageDecodeException or FormatException or ArgumentException or NotSupportedException
            or System.Text.Json.JsonException or MemoryBudgetException => e.Message,
        _ => $"unexpected {e.GetType().Name}: {e.Message} (a bug in onnx-trainer; --verbose shows where)",
    };
}
