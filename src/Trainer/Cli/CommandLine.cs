using System.CommandLine;

namespace OnnxTrainer.Cli;

/// <summary>The onnx-trainer command tree; each command lives in its own file.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("Train, export and inspect ONNX image classifiers by transfer learning.");
        return root.Parse(args).Invoke();
    }
}
