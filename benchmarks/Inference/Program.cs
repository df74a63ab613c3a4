// Inference overhead: ImageClassifier (decode + preprocess + run + top-k) against a raw ONNX Runtime
// session fed a pre-made tensor, same model, same session settings, same process, trials interleaved.
// The model is ResNet-18 (tests/fixtures/generated/resnet18.onnx, run tests/fixtures/generate.sh first)
// with a new 10-class head, exported by the trainer's ClassifierExporter with ImageNet preprocessing.
// Images: generated 500x375 JPEGs. A plain harness; run in Release:
//   dotnet run -c Release --project benchmarks/Inference [-- BATCH]
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Onnx;
using SkiaSharp;

var batch = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 16;
var folder = Directory.CreateTempSubdirectory("onnx-trainer-inference-bench-").FullName;
var modelPath = Path.Combine(folder, "model.onnx");
var spec = PreprocessingSpec.ImageNet();
var backbone = ModelReader.Load(FindBackbone());
var assembly = ClassifierAssembly.Build(backbone, BackboneCut.Head, classes: 10, hidden: [], seed: 1);
ClassifierExporter.Save(assembly.Model, new Dictionary<string, OnnxTrainer.Ir.Tensor>(),
    new ClassifierExport([.. Enumerable.Range(0, 10).Select(i => $"class{i}")], spec, "name: benchmark\n", "{}"), modelPath);
var paths = Enumerable.Range(0, batch).Select(i => WriteJpeg(Path.Combine(folder, $"{i}.jpg"), i)).ToArray();
var decoded = paths.Select(p => ImageDecoder.DecodeFile(p, ChannelFormat.Rgb)).ToArray();

using var classifier = ImageClassifier.Load(modelPath);
var exported = ModelReader.Load(modelPath);
ModelWriter.Save(Float16Weights.Convert(exported), Path.Combine(folder, "model.fp16.onnx"));
ModelWriter.Save(Int8Quantizer.Quantize(exported, [(Tensor(batch), [batch, 3, spec.InputHeight, spec.InputWidth])]), Path.Combine(folder, "model.int8.onnx"));
using var fp16 = ImageClassifier.Load(Path.Combine(folder, "model.fp16.onnx"));
using var int8 = ImageClassifier.Load(Path.Combine(folder, "model.int8.onnx"));
// The classifier's session settings: all optimizations, default threads, no spin-waiting (spinning threads of one
// session also slowed the other sessions of this process, whose trials interleave).
using var rawOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
rawOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
using var session = new InferenceSession(modelPath, rawOptions);
using var runOptions = new RunOptions();
var tensors = new[] { 1, batch }.Distinct().ToDictionary(n => n, Tensor);

Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; ResNet-18 (10-class head) 3x224x224, {Environment.ProcessorCount} cores, ONNX Runtime default threads, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine("| path | batch | ms per image (wall) | images/s | vs raw ORT (wall) | CPU ms per image | vs raw ORT (CPU) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
var rows = new (string Name, int Batch, Func<int> Run)[]
{
    ("raw ORT session, pre-made tensor", 1, () => RawRun(1)),
    ("ImageClassifier.Classify(decoded image): preprocess + run + top-k", 1, () => { classifier.Classify(decoded[0]); return 1; }),
    ("ImageClassifier.Classify(JPEG path): decode + preprocess + run + top-k", 1, () => { classifier.Classify(paths[0]); return 1; }),
    ("decode only (ImageDecoder.DecodeFile)", 1, () => { ImageDecoder.DecodeFile(paths[0], ChannelFormat.Rgb); return 1; }),
    ("raw ORT session, pre-made tensor", batch, () => RawRun(batch)),
    ("ImageClassifier.ClassifyBatch(decoded images)", batch, () => classifier.ClassifyBatch(decoded).Count),
    ("ImageClassifier.ClassifyBatch(JPEG paths)", batch, () => classifier.ClassifyBatch(paths).Count),
    ("fp16 weights: ImageClassifier.Classify(decoded image)", 1, () => { fp16.Classify(decoded[0]); return 1; }),
    ("int8 QDQ: ImageClassifier.Classify(decoded image)", 1, () => { int8.Classify(decoded[0]); return 1; }),
};
var results = Measure(rows);
for (var r = 0; r < rows.Length; r++)
{
    var raw = results[rows[r].Batch == 1 ? 0 : 4];
    var isDecode = rows[r].Name.StartsWith("decode", StringComparison.Ordinal);
    string Relative(double value, double baseline) => isDecode ? "" : $"{value / baseline - 1:+0.0%;-0.0%;0.0%}";
    Console.WriteLine($"| {rows[r].Name} | {rows[r].Batch} | {results[r].Wall:F2} | {1000 / results[r].Wall:F1} | {Relative(results[r].Wall, raw.Wall)} | {results[r].Cpu:F2} | {Relative(results[r].Cpu, raw.Cpu)} |");
}

Directory.Delete(folder, recursive: true);

float[] Tensor(int n)
{
    var tensor = new float[n * spec.TensorLength];
    var preprocessor = new ImagePreprocessor(spec);
    for (var i = 0; i < n; i++) preprocessor.Preprocess(decoded[i], tensor.AsSpan(i * spec.TensorLength, spec.TensorLength));
    return tensor;
}

int RawRun(int n)
{
    using var input = OrtValue.CreateTensorValueFromMemory(tensors[n], [n, 3, spec.InputHeight, spec.InputWidth]);
    using var outputs = session.Run(runOptions, [ClassifierContract.Input], [input], [ClassifierContract.Probabilities]);
    return n;
}

// The machine is shared: each trial runs every row for at least half a second, rows interleaved so
// that a busy spell hits them alike; the median of seven trials is reported, as wall-clock ms per
// image and as CPU ms per image (this process, all threads), which depends less on other processes.
static (double Wall, double Cpu)[] Measure((string Name, int Batch, Func<int> Run)[] rows)
{
    foreach (var row in rows) row.Run(); // warm-up: JIT, ORT's first-run allocations
    var trials = rows.Select(_ => new List<(double Wall, double Cpu)>()).ToArray();
    using var process = Process.GetCurrentProcess();
    for (var trial = 0; trial < 7; trial++)
    {
        for (var r = 0; r < rows.Length; r++)
        {
            var images = 0;
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            do images += rows[r].Run();
            while (watch.Elapsed < TimeSpan.FromSeconds(0.5));
            process.Refresh();
            trials[r].Add((watch.Elapsed.TotalMilliseconds / images, (process.TotalProcessorTime - cpuStart).TotalMilliseconds / images));
        }
    }

    static double Median(IEnumerable<double> values) => values.Order().ElementAt(3);
    return [.. trials.Select(t => (Median(t.Select(x => x.Wall)), Median(t.Select(x => x.Cpu))))];
}

static string FindBackbone()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var path = Path.Combine(dir.FullName, "tests", "fixtures", "generated", "resnet18.onnx");
        if (File.Exists(path)) return path;
    }

    throw new FileNotFoundException("tests/fixtures/generated/resnet18.onnx not found: run tests/fixtures/generate.sh");
}

static string WriteJpeg(string path, int seed)
{
    using var bitmap = new SKBitmap(500, 375);
    var random = new Random(seed);
    using (var canvas = new SKCanvas(bitmap))
    {
        canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var paint = new SKPaint { IsAntialias = true };
        for (var i = 0; i < 40; i++)
        {
            paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            canvas.DrawCircle(random.Next(500), random.Next(375), random.Next(10, 80), paint);
        }
    }

    using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
    File.WriteAllBytes(path, data.ToArray());
    return path;
}
