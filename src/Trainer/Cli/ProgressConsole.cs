using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary>Progress and status for long commands go to stderr: stdout carries the results (JSON for scripts).</summary>
internal static class ProgressConsole
{
    public static IAnsiConsole Create() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}
