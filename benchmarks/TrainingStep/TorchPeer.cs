using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>Runs training_step_torch.py (the PyTorch peer) as a child process and reads its JSON.</summary>
internal sealed class TorchPeer(string python, string script)
{
    /// <summary>Exports the benchmark models (ONNX + trainable-name lists) into the script's models folder.</summary>
    public void Export(IEnumerable<string> models) => Run(["export", "--models", .. models], out _);

    /// <summary>Median and minimum milliseconds of one PyTorch training step for one case.</summary>
    public (double MedianMs, double MinMs) TimeStep(string model, string setting, int batch, int warmup, int repeats, int threads)
    {
        Run(["time", "--models", model, "--settings", setting, "--batch", Str(batch),
            "--warmup", Str(warmup), "--repeats", Str(repeats), "--threads", Str(threads)], out var stdout);
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        using var doc = JsonDocument.Parse(last);
        var result = doc.RootElement.GetProperty("results")[0];
        return (result.GetProperty("median_ms").GetDouble(), result.GetProperty("min_ms").GetDouble());
    }

    private void Run(IEnumerable<string> args, out string stdout)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {python}");
        var errTask = process.StandardError.ReadToEndAsync();
        stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var stderr = errTask.Result;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{python} {script} {string.Join(' ', args)} failed ({process.ExitCode}):\n{stderr}");
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
