using System.Diagnostics;
using System.Text.Json;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// The PyTorch peer (training_step_torch.py). <see cref="Export"/> runs it once; <see cref="Start"/> keeps one
/// `serve` process alive so that ORT and PyTorch steps can alternate, one by one, in the same run: on a
/// shared machine both then see the same load. Owns a child process: dispose it.
/// </summary>
internal sealed class TorchPeer(string python, string script) : IDisposable
{
    private Process? _server;

    /// <summary>Exports the benchmark models (ONNX + trainable-name lists) into the script's models folder.</summary>
    public void Export(IEnumerable<string> models)
    {
        using var process = Process.Start(StartInfo(["export", "--models", .. models], redirectInput: false))
            ?? throw new InvalidOperationException($"cannot start {python}");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} export failed ({process.ExitCode}):\n{stderr.Result}");
    }

    public void Start(int threads, string memoryFormat)
    {
        // stderr is inherited: torch's warnings and errors show up in the benchmark's output.
        var info = StartInfo(["serve", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--memory-format", memoryFormat],
            redirectInput: true);
        info.RedirectStandardError = false;
        _server = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {python}");
    }

    /// <summary>Builds the case in PyTorch (same weights as the exported ONNX) and runs its warm-up steps.</summary>
    public void Prepare(string model, string setting, int batch, int warmup) =>
        Request(new { op = "prepare", model, setting, batch, warmup });

    /// <summary>One training step; PyTorch times it itself, so the pipe's latency is not counted.</summary>
    public double Step() => Request(new { op = "step" }).GetProperty("ms").GetDouble();

    public void Dispose()
    {
        if (_server is null) return;
        _server.StandardInput.Close();  // the server's loop ends at end of input
        if (!_server.WaitForExit(10_000)) _server.Kill();
        _server.Dispose();
        _server = null;
    }

    private JsonElement Request(object request)
    {
        var server = _server ?? throw new InvalidOperationException("the torch peer is not started");
        server.StandardInput.WriteLine(JsonSerializer.Serialize(request));
        server.StandardInput.Flush();
        var line = server.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"the torch peer exited ({(server.HasExited ? server.ExitCode : -1)})");
        var reply = JsonDocument.Parse(line).RootElement.Clone();
        if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException("torch peer: " + error.GetString());
        return reply;
    }

    private ProcessStartInfo StartInfo(IEnumerable<string> args, bool redirectInput)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE"; // see OrtTrainingStep: no spin-waiting on either side
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }
}
