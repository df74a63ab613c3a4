using System.Diagnostics;
using Spectre.Console;

namespace OnnxTrainer.Training;

/// <summary>
/// Live progress of the phases that take more than a moment (an epoch, a validation pass, an evaluation, int8
/// calibration), on stderr so that stdout carries only results: a Spectre progress bar on a terminal; where stderr is
/// not a terminal (CI, a pipe, a log file) a plain line at most every <see cref="LineInterval"/>, so a phase shorter
/// than that prints nothing; nothing at all when disabled.
/// </summary>
public sealed class LiveProgress
{
    /// <summary>How often a phase prints a line when stderr is not a terminal.</summary>
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(10);

    private readonly bool _enabled;
    private readonly bool _interactive;
    private readonly TextWriter _lines;

    private LiveProgress(bool enabled, bool interactive, TextWriter lines)
    {
        _enabled = enabled;
        _interactive = interactive;
        _lines = lines;
    }

    /// <summary>Progress on the current stderr; <paramref name="enabled"/> false shows none.</summary>
    public static LiveProgress ToStandardError(bool enabled = true) => new(enabled, !Console.IsErrorRedirected, Console.Error);

    /// <summary>
    /// Runs <paramref name="body"/> as a phase of <paramref name="total"/> <paramref name="unit"/> (batches, images), of
    /// which <paramref name="done"/> are done already (a resumed epoch); the body reports through the <see cref="PhaseProgress"/>.
    /// </summary>
    public T Run<T>(string phase, int total, string unit, Func<PhaseProgress, T> body, int done = 0)
    {
        if (!_enabled) return body(new PhaseProgress(phase, total, unit, done, _ => { }));
        if (!_interactive)
        {
            var clock = Stopwatch.StartNew();
            var next = LineInterval;
            return body(new PhaseProgress(phase, total, unit, done, progress =>
            {
                if (clock.Elapsed < next) return;
                next = clock.Elapsed + LineInterval;
                _lines.WriteLine(progress.Describe(withEta: true));
            }));
        }

        T result = default!;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(phase), maxValue: Math.Max(total, 1));
                task.Value = done;
                result = body(new PhaseProgress(phase, total, unit, done, progress =>
                {
                    task.Description = Markup.Escape(progress.Describe(withEta: false));
                    task.Value = progress.Done;
                }));
            });
        return result;
    }

    /// <summary>Runs a phase that returns nothing.</summary>
    public void Run(string phase, int total, string unit, Action<PhaseProgress> body, int done = 0) =>
        Run<object?>(phase, total, unit, progress =>
        {
            body(progress);
            return null;
        }, done);
}
