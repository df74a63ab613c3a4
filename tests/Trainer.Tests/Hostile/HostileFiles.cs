using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Data;
using OnnxTrainer.Tests.Export;
using SkiaSharp;

namespace OnnxTrainer.Tests.Hostile;

/// <summary>
/// Makes the inputs a hostile user would hand the CLI, inside one scratch folder: pipes, links to devices, crafted ONNX
/// files (through the project's own IR and writer), crafted image and data bytes. Every path it returns is inside
/// <see cref="Root"/>, so an error message naming the file is easy to check.
/// </summary>
internal sealed class HostileFiles : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public string Root => _folder.Root;

    public string Path(string relative) => System.IO.Path.Combine(Root, relative);

    public string Write(string relative, byte[] bytes) => _folder.Write(relative, bytes);

    public string Write(string relative, string text) => _folder.Write(relative, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A named pipe with no writer: opening it for reading blocks until one comes.</summary>
    public string Fifo(string relative)
    {
        string path = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0) throw new IOException($"mkfifo {path} failed ({mkfifo.ExitCode})");
        return path;
    }

    /// <summary>A symbolic link at <paramref name="relative"/> to <paramref name="target"/> (a device, a folder above, itself).</summary>
    public string Link(string relative, string target)
    {
        string path = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        return path;
    }

    /// <summary>A small valid picture, PNG or JPEG.</summary>
    public string Image(string relative, int seed = 0, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        Write(relative, TemporaryDirectory.Picture(seed, format, width: 70, height: 66));

    /// <summary>An exported classifier (labels and preprocessing in its metadata) with the given labels, changed by <paramref name="edit"/>.</summary>
    public string Classifier(string relative, IReadOnlyList<string>? labels = null, Action<Model>? edit = null)
    {
        var model = TrainedClassifier.Create(labels: labels).Build();
        edit?.Invoke(model);
        return Write(relative, ModelWriter.ToBytes(model));
    }

    /// <summary>
    /// A tiny image classifier built with the IR (input [1, 3, 8, 8] -> Conv 3x3 -> global pool -> Flatten -> Gemm), changed
    /// by <paramref name="edit"/> into the hostile variant, and written without any check.
    /// </summary>
    public string Model(string relative, Action<Model>? edit = null)
    {
        var model = new Model();
        model.Opsets[""] = 17;
        var graph = model.Graph;
        var input = graph.AddInput("input", TensorType.Of(DataType.Float, 1, 3, 8, 8));
        var weight = graph.AddInitializer("conv.weight", Tensor.FromFloats([4, 3, 3, 3], new float[4 * 3 * 3 * 3]));
        var conv = graph.AddNode("Conv", [input, weight], ["features"], [OnnxTrainer.Ir.Attribute.Of("kernel_shape", [3L, 3L]), OnnxTrainer.Ir.Attribute.Of("pads", [1L, 1L, 1L, 1L])], name: "conv");
        var pool = graph.AddNode("GlobalAveragePool", [conv.Output()], ["pooled"], name: "pool");
        var flat = graph.AddNode("Flatten", [pool.Output()], ["flat"], name: "flatten");
        var fcWeight = graph.AddInitializer("fc.weight", Tensor.FromFloats([2, 4], new float[8]));
        var gemm = graph.AddNode("Gemm", [flat.Output(), fcWeight], ["logits"], [OnnxTrainer.Ir.Attribute.Of("transB", 1L)], name: "fc");
        graph.Outputs.Add(gemm.Output());
        edit?.Invoke(model);
        string path = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ModelWriter.ToBytes(model));
        return path;
    }

    public void Dispose() => _folder.Dispose();
}
