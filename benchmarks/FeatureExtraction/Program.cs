// Feature extraction at 224 px on ML.NET's ImageNet ResNet-18 (models/imagenet, from scripts/setup.sh) as the
// quickstart runs it (its ResNetPreprocess graph in front, cut: head keeps the whole graph, a new 5-class head),
// exported and run in ONNX Runtime, against torchvision's resnet18 forward in PyTorch (resnet18_torch.py), with
// the same threads and batch, in the same run: ours, PyTorch, ours again (the two rounds of ours are averaged,
// so a change in the machine's load shows as a gap between them). A plain harness; run in Release:
//   dotnet run -c Release --project benchmarks/FeatureExtraction [-- THREADS [BATCH]]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;

int threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
int batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
var root = FindRepository();
var photos = Path.Combine(root, "data", "photos", "train");
var paths = Directory.GetFiles(photos, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

var backbone = ModelReader.Load(Path.Combine(root, "models", "imagenet", "ResNet18.onnx"));
PreprocessingGraph.Prepend(backbone, ModelReader.Load(Path.Combine(root, "models", "imagenet", "ResNetPreprocess.onnx")));
var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 5, hidden: [], seed: 0);
var spec = new PreprocessingSpec { InputHeight = 224, InputWidth = 224, Resize = 224, Mean = [0, 0, 0], Std = [1, 1, 1], Range = 255 };
var modelPath = Path.Combine(Directory.CreateTempSubdirectory("onnx-trainer-feature-bench-").FullName, "model.onnx");
ClassifierExporter.Save(assembly.Model, new Dictionary<string, OnnxTrainer.Ir.Tensor>(),
    new ClassifierExport(["a", "b", "c", "d", "e"], spec, "name: benchmark\n", "{}"), modelPath);

// No spin-waiting on either side (ImageClassifier's setting; the peer runs with OMP_WAIT_POLICY=PASSIVE): on a
// shared machine spinning threads measure the load more than the model.
using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
using var session = new InferenceSession(modelPath, options);
using var classifier = ImageClassifier.Load(modelPath, new ClassifierOptions { Threads = threads, MaxBatchSize = batch });
var random = new Random(1);
var input = Enumerable.Range(0, batch * spec.TensorLength).Select(_ => (float)random.Next(256)).ToArray();
using var tensor = OrtValue.CreateTensorValueFromMemory(input, spec.TensorShape(batch));

var ours = new[] { Ours(), default, default };
var torch = Torch();
ours[2] = Ours();
Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; {threads} threads, batch {batch}, {Environment.ProcessorCount} cores; " +
                  $"{paths.Length} photos of data/photos/train; PyTorch {torch.GetProperty("torch").GetString()}");
Console.WriteLine();
Console.WriteLine("| images/s at 224 px | onnx-trainer (ORT) | PyTorch (torchvision resnet18) | ORT / PyTorch |");
Console.WriteLine("|---|---:|---:|---:|");
Row("forward, pre-made batch", (ours[0].Forward + ours[2].Forward) / 2, torch.GetProperty("forward").GetDouble(), $"ours {ours[0].Forward:F1} / {ours[2].Forward:F1}");
Row("photos: decode, resize, forward", (ours[0].Photos + ours[2].Photos) / 2, torch.GetProperty("photos").GetDouble(), $"ours {ours[0].Photos:F1} / {ours[2].Photos:F1}");

(double Forward, double Photos) Ours()
{
    var names = new[] { session.InputNames[0] };
    var outputs = new[] { session.OutputNames[0] };
    using var runOptions = new RunOptions();
    session.Run(runOptions, names, [tensor], outputs).Dispose();
    var rates = new List<double>();
    for (int trial = 0; trial < 5; trial++)
    {
        var watch = Stopwatch.StartNew();
        int images = 0;
        while (watch.Elapsed.TotalSeconds < 2)
        {
            session.Run(runOptions, names, [tensor], outputs).Dispose();
            images += batch;
        }
        rates.Add(images / watch.Elapsed.TotalSeconds);
    }
    classifier.ClassifyBatch(paths); // warms the file cache, as the peer's first pass does
    var photoWatch = Stopwatch.StartNew();
    classifier.ClassifyBatch(paths);
    return (rates.Order().ElementAt(2), paths.Length / photoWatch.Elapsed.TotalSeconds);
}

JsonElement Torch()
{
    var script = Path.Combine(root, "benchmarks", "FeatureExtraction", "resnet18_torch.py");
    var info = new ProcessStartInfo("/usr/bin/python3", [script, threads.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), photos])
    {
        RedirectStandardOutput = true,
        Environment =
        {
            ["OMP_WAIT_POLICY"] = "PASSIVE",
            ["MALLOC_MMAP_THRESHOLD_"] = "33554432",
            ["MALLOC_TRIM_THRESHOLD_"] = "68719476736",
        },
    };
    using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({process.ExitCode})");
    return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
}

static void Row(string name, double ours, double torch, string note) =>
    Console.WriteLine($"| {name} ({note}) | {ours:F1} | {torch:F1} | {ours / torch:F2} |");

static string FindRepository()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        if (File.Exists(Path.Combine(directory.FullName, "Onnx.sln"))) return directory.FullName;
    throw new InvalidOperationException("run from inside the repository");
}
