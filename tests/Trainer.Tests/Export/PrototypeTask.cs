using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Export;
using OnnxTrainer.Inference.Tests;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Data;
using OnnxTrainer.Tests.Fixtures;
using SkiaSharp;

namespace OnnxTrainer.Tests.Export;

/// <summary>
/// A small task with real accuracy and no training loop: four classes of synthetic patterns (stripes,
/// bars, rings, checkers, each in its own colors, with random period, phase, brightness and noise), and a classifier whose head is
/// a linear discriminant fitted in closed form on the backbone's pooled features of the training images
/// (class means, pooled per-feature variance: weight = mean / variance, bias = -sum(mean^2 / variance) / 2).
/// Quantization can then be judged by accuracy on held-out images.
/// </summary>
internal sealed class PrototypeTask : IDisposable
{
    public static readonly IReadOnlyList<string> Classes = ["checkers", "rings", "stripes", "bars"];

    private static readonly (int R, int G, int B)[] Palette = [(200, 170, 80), (90, 180, 200), (200, 100, 140), (130, 200, 110)];

    private readonly TemporaryDirectory _tree = new();

    public PrototypeTask(int trainPerClass = 24, int validationPerClass = 25)
    {
        Train = WriteImages("train", trainPerClass, seed: 1);
        Validation = WriteImages("validation", validationPerClass, seed: 2);
        RunDirectory = Path.Combine(_tree.Root, "run");
        ClassifierExporter.Save(Build(out var parameters, out var export), parameters, export, Path.Combine(RunDirectory, "model.onnx"));
    }

    public string Train { get; }

    public string Validation { get; }

    /// <summary>Holds model.onnx, as a training run leaves it.</summary>
    public string RunDirectory { get; }

    public void Dispose() => _tree.Dispose();

    private Model Build(out Dictionary<string, Tensor> parameters, out ClassifierExport export)
    {
        var dataset = ImageDataset.FromFolder(Train);
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), new BackboneCut(CutPointIndex: 2), dataset.Classes.Count, [], seed: 3);
        var probe = ModelReader.Load(ModelWriter.ToBytes(assembly.Model));
        var pooled = probe.Graph.Nodes.Single(n => n.OpType == "Gemm" && n.Name.StartsWith(ClassifierHeadBuilder.Prefix, StringComparison.Ordinal)).Input(0)!;
        probe.Graph.Outputs.Add(pooled);

        var batch = new DataLoader(dataset, TrainedClassifier.Preprocessing, new DataLoaderOptions { BatchSize = dataset.Count }).ReadEpoch(0).Single();
        using var runner = new OrtRunner(probe);
        var (features, shape) = runner.Run(new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, batch.Shape, Array.ConvertAll(batch.Images, v => (double)v)),
        })[1];
        int width = (int)shape[1], classes = dataset.Classes.Count;
        var means = new double[classes, width];
        var variance = new double[width];
        for (int c = 0; c < classes; c++)
        {
            var members = Enumerable.Range(0, batch.Count).Where(i => batch.Labels[i] == c).ToList();
            for (int j = 0; j < width; j++)
            {
                means[c, j] = members.Average(i => features[i * width + j]);
                variance[j] += members.Sum(i => Math.Pow(features[i * width + j] - means[c, j], 2)) / batch.Count;
            }
        }
        // Untrained backbones lose most of the image by their last layer (their outputs barely vary), hence the
        // early cut ("truncate" strategy); the floor keeps near-constant features from getting huge weights.
        double floor = 1e-3 * variance.Average() + 1e-9;
        var weight = new float[classes * width];
        var bias = new float[classes];
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < width; j++)
            {
                double precision = 1 / (variance[j] + floor);
                weight[c * width + j] = (float)(means[c, j] * precision);
                bias[c] -= (float)(0.5 * means[c, j] * means[c, j] * precision);
            }
        parameters = new() { ["head.out.weight"] = Tensor.FromFloats([classes, width], weight), ["head.out.bias"] = Tensor.FromFloats([classes], bias) };
        export = new ClassifierExport(dataset.Classes, TrainedClassifier.Preprocessing, "name: prototype\n", "{}");
        return assembly.Model;
    }

    private string WriteImages(string split, int perClass, int seed)
    {
        var random = new Random(seed);
        for (int c = 0; c < Classes.Count; c++)
            for (int i = 0; i < perClass; i++)
            {
                double period = 6 + random.NextDouble() * 8, phase = random.NextDouble() * period, brightness = 0.4 + random.NextDouble() * 0.6;
                int noiseSeed = random.Next();
                var noise = new Random(noiseSeed);
                var bytes = EncodedImages.Encode(80, 72, (x, y) => Pattern(c, x, y, period, phase, brightness, noise), SKEncodedImageFormat.Png);
                _tree.Write($"{split}/{Classes[c]}/{i}.png", bytes);
            }
        return Path.Combine(_tree.Root, split);
    }

    private static SKColor Pattern(int c, int x, int y, double period, double phase, double brightness, Random noise)
    {
        bool on = c switch
        {
            0 => ((int)((x + phase) / period) + (int)((y + phase) / period)) % 2 == 0,
            1 => (int)((Math.Sqrt((x - 40) * (x - 40) + (y - 36) * (y - 36)) + phase) / period) % 2 == 0,
            2 => (int)((y + phase) / period) % 2 == 0,
            _ => (int)((x + phase) / period) % 2 == 0,
        };
        // Each class has its own palette too: random features separate colors better than orientations.
        (int r, int g, int b) = on ? Palette[c] : (60, 60, 60);
        byte Channel(int v) => (byte)Math.Clamp(v * brightness + noise.Next(-70, 71), 0, 255);
        return new SKColor(Channel(r), Channel(g), Channel(b));
    }
}
