using System.Runtime.InteropServices;

namespace OnnxTrainer.Training;

/// <summary>
/// Ctrl+C and SIGTERM ask the run to stop at the next step boundary (where it saves a checkpoint)
/// instead of killing the process mid-write; before the first step, each setup phase (data scan, backbone load, graph
/// building, session start, validation) checks it and ends the run with <see cref="OperationCanceledException"/>.
/// A second Ctrl+C is not intercepted.
/// </summary>
public sealed class StopSignal : IDisposable
{
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private volatile bool _requested;
    private int _stepsLeft;

    public StopSignal()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>Requests a stop as a signal would (tests and callers that embed the trainer).</summary>
    public void Request() => _requested = true;

    /// <summary>Requests a stop after this many more training steps (callers that budget a run by steps).</summary>
    public void RequestAfterSteps(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        _stepsLeft = steps;
    }

    /// <summary>Whether a stop was requested (read between the batches of a pass that takes no step, such as validation).</summary>
    internal bool Requested => _requested;

    /// <summary>Ends a setup phase's work when a stop was requested: nothing is saved yet, so there is nothing to resume.</summary>
    /// <param name="next">What would come next ("loading the backbone").</param>
    public void ThrowIfRequested(string next)
    {
        if (_requested) throw new OperationCanceledException($"stopped on request before {next}");
    }

    /// <summary>Called by the loop after each step; true when the run must stop there.</summary>
    internal bool StepCompleted()
    {
        if (_stepsLeft > 0 && --_stepsLeft == 0) _requested = true;
        return _requested;
    }

    private void Handle(PosixSignalContext context)
    {
        if (_requested) return;
        _requested = true;
        context.Cancel = true;
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
