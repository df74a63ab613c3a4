// Data loader throughput: images/second through decode + augment + batch into 224x224 NCHW
// float batches, from generated ~500x375 JPEGs. A plain harness (each row is one or more full
// epochs, long enough that timer resolution does not matter); run in Release:
//   dotnet run -c Release --project benchmarks/DataLoaderBenchmark [-- IMAGES [BATCH]]
// The torchvision peer on the same images: see torchvision_peer.py next to this file.
using System.Diagnostics;
using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using SkiaSharp;

var imageCount = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 512;
var batchSize = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64;
var root = Path.Combine(Path.GetTempPath(), $"onnx-trainer-loader-bench-{imageCount}");
GenerateJpegs(root, imageCount);

var dataset = ImageDataset.FromFolder(root);
var spec = PreprocessingSpec.ImageNet();
var train = new AugmentationOptions { RandomResizedCrop = true, HorizontalFlip = 0.5, Brightness = 0.4, Contrast = 0.4, Saturation = 0.4 };

Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; {dataset.Count} JPEGs of 500x375 in {dataset.Classes.Count} classes, batch {batchSize}, output 3x224x224, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine("| pipeline | threads | images/s (wall) | images per CPU-second | ms/batch (wall) |");
Console.WriteLine("|---|---:|---:|---:|---:|");
Row("decode only (ImageDecoder.DecodeFile, no batching)", 1, DecodeOnly);
Row("eval: decode + resize 256 + center crop 224 + normalize", 1, () => Epoch(Options(1)));
Row("eval: decode + resize 256 + center crop 224 + normalize", Environment.ProcessorCount, () => Epoch(Options(Environment.ProcessorCount)));
Row("train: decode + random resized crop + flip + color jitter", 1, () => Epoch(Options(1) with { Augmentation = train }));
Row("train: decode + random resized crop + flip + color jitter", Environment.ProcessorCount, () => Epoch(Options(Environment.ProcessorCount) with { Augmentation = train }));
Row("train + rotation 10 degrees", Environment.ProcessorCount, () => Epoch(Options(Environment.ProcessorCount) with { Augmentation = train with { RotationDegrees = 10 } }));
var cached = new DataLoader(dataset, spec, Options(Environment.ProcessorCount) with { Augmentation = train, CacheBudgetBytes = 1L << 30 });
Drain(cached.ReadEpoch(0));
Row("train, decoded images cached (epoch 2+)", Environment.ProcessorCount, () => Drain(cached.ReadEpoch(1)));

DataLoaderOptions Options(int threads) => new() { BatchSize = batchSize, Shuffle = true, Seed = 1, DecodeParallelism = threads, PrefetchBatches = 2 };

int Epoch(DataLoaderOptions options) => Drain(new DataLoader(dataset, spec, options).ReadEpoch(0));

int DecodeOnly()
{
    foreach (var sample in dataset.Samples)
    {
        ImageDecoder.DecodeFile(sample.Source, ChannelFormat.Rgb);
    }

    return dataset.Count;
}

static int Drain(IEnumerable<DataBatch> batches) => batches.Sum(batch => batch.Count);

// The machine is shared, so wall-clock rates swing with other processes. Each row runs five trials
// of at least one second and reports the median wall-clock rate and the median rate per CPU-second
// of this process (all its threads): the latter barely depends on how busy the machine is.
void Row(string name, int threads, Func<int> run)
{
    run(); // warm-up: JIT, page cache
    var wallRates = new List<double>();
    var cpuRates = new List<double>();
    using var process = Process.GetCurrentProcess();
    for (var trial = 0; trial < 5; trial++)
    {
        var images = 0;
        process.Refresh();
        var cpuStart = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        do
        {
            images += run();
        }
        while (watch.Elapsed < TimeSpan.FromSeconds(1));

        process.Refresh();
        wallRates.Add(images / watch.Elapsed.TotalSeconds);
        cpuRates.Add(images / (process.TotalProcessorTime - cpuStart).TotalSeconds);
    }

    wallRates.Sort();
    cpuRates.Sort();
    Console.WriteLine($"| {name} | {threads} | {wallRates[2]:F0} | {cpuRates[2]:F0} | {batchSize / wallRates[2] * 1000:F0} |");
}

static void GenerateJpegs(string root, int count)
{
    if (Directory.Exists(root) && Directory.EnumerateFiles(root, "*.jpg", SearchOption.AllDirectories).Count() == count)
    {
        return;
    }

    // Smooth gradients, stripes and noise: compresses like a photo (about 40-60 KB at quality 90).
    var random = new Random(42);
    for (var i = 0; i < count; i++)
    {
        var folder = Path.Combine(root, $"class{i % 4}");
        Directory.CreateDirectory(folder);
        using var bitmap = new SKBitmap(new SKImageInfo(500, 375, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        double fx = random.NextDouble() * 0.05, fy = random.NextDouble() * 0.05;
        for (var y = 0; y < 375; y++)
        {
            for (var x = 0; x < 500; x++)
            {
                var o = (y * 500 + x) * 4;
                var noise = random.Next(-12, 13);
                pixels[o] = (byte)Math.Clamp(128 + 100 * Math.Sin(fx * x + i) + noise, 0, 255);
                pixels[o + 1] = (byte)Math.Clamp(128 + 100 * Math.Cos(fy * y) + noise, 0, 255);
                pixels[o + 2] = (byte)Math.Clamp(((x / 25 + y / 25) % 2) * 160 + 40 + noise, 0, 255);
                pixels[o + 3] = 255;
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(Path.Combine(folder, $"{i:D5}.jpg"), data.ToArray());
    }
}
