using OnnxTrainer.Cli;

namespace OnnxTrainer.Tests;

/// <summary>Runs the command line with stdout and stderr captured (tests using it belong to the console collection).</summary>
internal static class ConsoleCapture
{
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (CommandLine.Run(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
