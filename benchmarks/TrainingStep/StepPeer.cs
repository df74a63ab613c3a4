using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// One side of a case in a process of its own, spoken to in JSON lines over stdin/stdout: the PyTorch peer
/// (training_step_torch.py serve) or our step (this program's <c>serve</c>, <see cref="StepServer"/>). A fresh process
/// per case makes its peak resident memory the case's own; steps of both sides alternate one by one, so that on a
/// shared machine both see the same load. Owns a child process: dispose it.
/// </summary>
internal sealed class StepPeer : IDisposable
{
    private readonly Process _server;

    private StepPeer(ProcessStartInfo start)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = false; // inherited: the child's warnings and errors show in the benchmark's output
        start.UseShellExecute = false;
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE"; // see OrtTrainingStep: no spin-waiting on either side
        _server = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
    }

    public static StepPeer Torch(string python, string script, int threads, string memoryFormat) =>
        new(TorchStart(python, script, ["serve", "--threads", Inv(threads), "--memory-format", memoryFormat]));

    /// <summary>This program again, serving our step with the given options (threads, chunks, models folder).</summary>
    public static StepPeer Ort(IEnumerable<string> options)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this program's path");
        var start = new ProcessStartInfo(host);
        // Run as `dotnet training-step-bench.dll`: the host needs the assembly; as the apphost it is the program itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        start.ArgumentList.Add("serve");
        foreach (var option in options) start.ArgumentList.Add(option);
        return new StepPeer(start);
    }

    /// <summary>Exports the benchmark models (ONNX + trainable-name lists) into the torch script's models folder.</summary>
    public static void ExportTorchModels(string python, string script, IEnumerable<string> models)
    {
        var start = TorchStart(python, script, ["export", "--models", .. models]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {python}");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} export failed ({process.ExitCode}):\n{stderr.Result}");
    }

    /// <summary>Builds the case (same weights on both sides) and runs its warm-up steps; returns the side's description of it.</summary>
    public JsonElement Prepare(string model, string setting, int batch, int warmup) =>
        Request(new { op = "prepare", model, setting, batch, warmup });

    /// <summary>One training step, timed by the side itself, so the pipe's latency is not counted (ms).</summary>
    public double Step()
    {
        var reply = Request(new { op = "step" });
        if (reply.TryGetProperty("loss", out var loss)) LastLoss = loss.GetSingle();
        return reply.GetProperty("ms").GetDouble();
    }

    /// <summary>The loss of the last step, where the side reports it (a sanity value: about ln(classes) for random weights).</summary>
    public float LastLoss { get; private set; } = float.NaN;

    /// <summary>The process's resident memory so far (and, for ours, its ONNX Runtime arenas).</summary>
    public MemoryReading Memory()
    {
        var reply = Request(new { op = "memory" });
        long? Optional(string name) => reply.TryGetProperty(name, out var v) ? v.GetInt64() : null;
        return new MemoryReading(reply.GetProperty("baseline_rss").GetInt64(), reply.GetProperty("peak_rss").GetInt64(),
            reply.GetProperty("rss").GetInt64(), Optional("arena_reserved"), Optional("arena_peak_in_use"));
    }

    public void Dispose()
    {
        _server.StandardInput.Close();  // the server's loop ends at end of input
        if (!_server.WaitForExit(10_000)) _server.Kill();
        _server.Dispose();
    }

    private JsonElement Request(object request)
    {
        _server.StandardInput.WriteLine(JsonSerializer.Serialize(request));
        _server.StandardInput.Flush();
        var line = _server.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"{_server.StartInfo.FileName} exited ({(_server.HasExited ? _server.ExitCode : -1)})");
        var reply = JsonDocument.Parse(line).RootElement.Clone();
        if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{_server.StartInfo.FileName}: {error.GetString()}");
        return reply;
    }

    private static ProcessStartInfo TorchStart(string python, string script, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(python) { UseShellExecute = false };
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    private static string Inv(int n) => n.ToString(CultureInfo.InvariantCulture);
}
