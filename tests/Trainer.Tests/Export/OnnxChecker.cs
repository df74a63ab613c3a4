using System.Diagnostics;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace OnnxTrainer.Tests.Export;

/// <summary>Runs the reference ONNX checker (Debian python3-onnx, full check with shape inference) on a model, when it is installed.</summary>
internal static class OnnxChecker
{
    private const string Python = "/usr/bin/python3";

    public static void AssertValid(Model model, ITestOutputHelper output)
    {
        if (!File.Exists(Python) || Process.Start(Python, ["-c", "import onnx"]) is not { } probe || !probe.WaitForExit(60_000) || probe.ExitCode != 0)
        {
            output.WriteLine($"SKIPPED the ONNX checker: {Python} with the onnx module is not installed (scripts/setup.sh installs python3-onnx)");
            return;
        }
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        ModelWriter.Save(model, path);
        var start = new ProcessStartInfo(Python, ["-c", "import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)", path]) { RedirectStandardError = true };
        using var checker = Process.Start(start)!;
        string errors = checker.StandardError.ReadToEnd();
        checker.WaitForExit();
        Assert.True(checker.ExitCode == 0, errors);
    }
}
