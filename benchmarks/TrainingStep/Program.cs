using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Benchmarks.TrainingStep;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using OnnxTrainer.Training;

BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (HelpRequestedException)
{
    Console.WriteLine(BenchmarkOptions.Usage);
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchmarkOptions.Usage);
    return 2;
}

// Trainable parameters of the "last-block" setting, by initializer-name prefix; the torch script uses the
// same prefixes (and writes its lists beside the models, checked below).
var lastBlockPrefixes = new Dictionary<string, string[]>
{
    ["mobilenet_v2"] = ["features.17.", "features.18.", "classifier."],
    ["resnet18"] = ["layer4.", "fc."],
    ["mobilenet_v3_large"] = ["features.15.", "features.16.", "classifier."],
    ["efficientnet_b0"] = ["features.7.", "features.8.", "classifier."],
    ["shufflenet_v2_x1_0"] = ["stage4.3.", "conv5.", "fc."],
    ["densenet121"] = ["features.denseblock4.denselayer16.", "features.norm5.", "classifier."],
    ["convnext_tiny"] = ["features.7.2.", "classifier."],
};

// Before anything else touches ONNX Runtime, as in the trainer: the sessions on all cores share one pool.
SharedThreadPool.EnsureCreated();
var missing = options.Models.Where(m => !File.Exists(ModelPath(m))).ToList();
if (missing.Count > 0)
{
    Console.WriteLine($"exporting {string.Join(", ", missing)} with {options.TorchScript} ...");
    using var exporter = new TorchPeer(options.Python, options.TorchScript);
    exporter.Export(missing);
}

Console.WriteLine(Inv($"training step, batch {options.Batch}, 224x224, {options.Threads} threads, {(options.Chunks == 0 ? "chunks as the trainer chooses" : $"{options.Chunks} chunk(s)")}, warmup {options.Warmup}, median of {options.Repeats}"));
Console.WriteLine($"date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores ({CpuModel()}), ONNX Runtime {OrtEnv.Instance().GetVersionString()}, load {LoadAverage()}");
Console.WriteLine();

if (options.SaveGraphsDir is { } graphsDir) Directory.CreateDirectory(graphsDir);
// One PyTorch process per memory format: its NCHW default and channels_last, its fastest state here.
var peers = (options.WithTorch ? options.TorchMemoryFormats : []).Select(format =>
{
    var peer = new TorchPeer(options.Python, options.TorchScript);
    peer.Start(options.Threads, format);
    return (Format: format, Peer: peer);
}).ToList();
if (peers.Count > 0) Console.WriteLine($"PyTorch peers: {string.Join(", ", peers.Select(p => p.Format))} memory format");

var results = new List<CaseResult>();
var profiles = new Dictionary<string, ProfileSummary>();
foreach (var modelName in options.Models)
{
    var forward = ModelReader.Load(ModelPath(modelName));
    ShapeInference.Run(forward.Graph, forward.OpsetVersion); // value types, by which the frozen prefix is split off
    var parameters = Parameters.Of(forward.Graph).Select(v => v.Name).ToList();
    var expected = ReadTorchLists(modelName);
    foreach (var setting in options.Settings)
    {
        var trainable = setting == "full"
            ? parameters
            : parameters.Where(p => lastBlockPrefixes[modelName].Any(prefix => p.StartsWith(prefix, StringComparison.Ordinal))).ToList();
        if (expected?.GetValueOrDefault(setting) is { } torchList && !torchList.ToHashSet().SetEquals(trainable))
            throw new InvalidOperationException($"{modelName} {setting}: {trainable.Count} trainable initializers, but torch trains {torchList.Count} parameters under other names");

        var loadBefore = LoadAverage();
        string? optimized = options.SaveGraphsDir is { } dir ? Path.Combine(dir, $"{modelName}.{setting}.optimized.onnx") : null;
        CaseResult result;
        using (var step = new OrtTrainingStep(forward, trainable, options.Batch, options.Threads, options.Chunks, optimizedModelPath: optimized))
        {
            if (options.SaveGraphsDir is { } saveDir)
            {
                ModelWriter.Save(step.TrainingModel, Path.Combine(saveDir, $"{modelName}.{setting}.training.onnx"));
            }
            for (int i = 0; i < options.Warmup; i++) step.Step();
            foreach (var (_, peer) in peers) peer.Prepare(modelName, setting, options.Batch, options.Warmup);

            // ORT and PyTorch steps alternate, so that all sides see the same moments of a shared machine.
            var times = new double[options.Repeats];
            var peerTimes = peers.Select(_ => new double[options.Repeats]).ToArray();
            for (int i = 0; i < times.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                step.Step();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                for (int k = 0; k < peers.Count; k++) peerTimes[k][i] = peers[k].Peer.Step();
            }
            result = new CaseResult(modelName, setting, trainable.Count, step.NodeCount, step.BuildTime.TotalMilliseconds,
                step.SerializeTime.TotalMilliseconds, step.SessionTime.TotalMilliseconds, Median(times), times.Min(), step.Loss, [.. times.Select(t => Math.Round(t, 1))])
            {
                Chunks = step.Chunks,
                PositionsPerImage = Math.Round(step.PositionsPerImage),
                Peers = [.. peers.Select((p, k) => new PeerResult(p.Format, Median(peerTimes[k]), peerTimes[k].Min(),
                    [.. peerTimes[k].Select(t => Math.Round(t, 1))], Median(times)))],
            };
        }
        GC.Collect();
        Console.WriteLine(Inv($"{modelName,-13} {setting,-10} ORT {result.OrtMs,8:F1} ms (min {result.OrtMinMs:F1}; loss {result.Loss:F3}; {result.Trainable} trainable, {result.Nodes} nodes; {result.Chunks} chunk(s), {result.PositionsPerImage:F0} positions/image; build {result.BuildMs:F0} ms, session {result.SessionMs:F0} ms)"));
        foreach (var peer in result.Peers)
            Console.WriteLine(Inv($"{"",-13} {"",-10} PyTorch {peer.Ms,4:F1} ms (min {peer.MinMs:F1}; {peer.MemoryFormat}) -> ratio {peer.Ratio:F2}"));
        result = result with { Load = $"{loadBefore} -> {LoadAverage()}" };
        Console.WriteLine($"{"",-13} {"",-10} load average {result.Load}");
        results.Add(result);

        if (options.Profile)
        {
            var prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{modelName}-{setting}");
            using var step = new OrtTrainingStep(forward, trainable, options.Batch, options.Threads, options.Chunks, profilePrefix: prefix);
            int warmup = Math.Max(options.Warmup, 1);
            for (int i = 0; i < warmup + options.ProfileRuns; i++) step.Step();
            var file = step.EndProfiling()[0];
            var summary = ProfileSummary.Read(file, ConvLabels(forward.Graph), warmup);
            profiles[$"{modelName} {setting}"] = summary;
            Console.WriteLine($"profile of {modelName} {setting} ({file}):");
            Console.Write(summary.Format(top: 15));
        }
    }
}

// (Should a case throw, the peers end with this process: their input closes.)
foreach (var (_, peer) in peers) peer.Dispose();

Console.WriteLine();
var formats = peers.Select(p => p.Format).ToList();
Console.WriteLine("| model | setting | trainable tensors | training-graph nodes | chunks | graph build ms | session create ms | ORT ms | "
    + string.Concat(formats.Select(f => $"PyTorch {f} ms | ratio | ")) + "target |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|" + string.Concat(formats.Select(_ => "---:|---:|")) + "---:|");
foreach (var r in results)
{
    var target = r.Setting == "full" ? 1.2 : 1.0;
    var peerCells = string.Concat(r.Peers.Select(p => Inv($"{p.Ms:F1} | {p.Ratio:F2} | ")));
    Console.WriteLine(Inv($"| {r.Model} | {r.Setting} | {r.Trainable} | {r.Nodes} | {r.Chunks} | {r.BuildMs:F0} | {r.SessionMs:F0} | {r.OrtMs:F1} | {peerCells}<= {target:F1} |"));
}

if (options.JsonPath is { } jsonPath)
{
    var json = new
    {
        date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        cores = Environment.ProcessorCount,
        cpu = CpuModel(),
        ort = OrtEnv.Instance().GetVersionString(),
        options.Batch, options.Threads, options.Chunks, options.Warmup, options.Repeats, torchMemoryFormats = formats,
        results,
        profiles = profiles.ToDictionary(kv => kv.Key, kv => new
        {
            kv.Value.TotalMs,
            byPhase = kv.Value.ByPhase.Select(p => new { p.Key, p.Ms }),
            byOpType = kv.Value.ByOpType.Take(25).Select(p => new { p.Key, p.Ms }),
            byRule = kv.Value.ByRule.Take(25).Select(p => new { p.Key, p.Ms }),
        }),
    };
    File.WriteAllText(jsonPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
}
return 0;

string ModelPath(string model) => Path.Combine(options.ModelsDir, model + ".onnx");

// The torch script's lists of trainable parameter names, when it wrote them (a check that both sides train the same tensors).
Dictionary<string, List<string>>? ReadTorchLists(string model)
{
    var path = Path.Combine(options.ModelsDir, model + ".json");
    if (!File.Exists(path)) return null;
    using var doc = JsonDocument.Parse(File.ReadAllText(path));
    return doc.RootElement.GetProperty("trainable").EnumerateObject()
        .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetString()!).ToList());
}

// "Conv depthwise 3x3/s2", "Conv 1x1/s1", "Conv 3x3/s1": the gradient formulations (and their costs) differ by kind.
static Dictionary<string, string> ConvLabels(Graph graph)
{
    var labels = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (var node in graph.Nodes.Where(n => n.OpType == "Conv"))
    {
        var kernel = node.Input(1)?.Type?.KnownDims is { Length: >= 3 } w ? string.Join('x', w[2..]) : "?";
        long group = node.Int("group", 1);
        long inChannels = node.Input(1)?.Type?.KnownDims is { } wd ? wd[1] * group : 0;
        var kind = group > 1 && group == inChannels ? "depthwise " : group > 1 ? "grouped " : "";
        var stride = node.Ints("strides") is { Count: > 0 } s ? s.Max() : 1;
        labels[node.Name] = Inv($"Conv {kind}{kernel}/s{stride}");
    }
    return labels;
}

static double Median(double[] values)
{
    var sorted = values.Order().ToArray();
    int n = sorted.Length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

static string CpuModel()
{
    if (!File.Exists("/proc/cpuinfo")) return "?";
    var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
    return line is null ? "?" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
}

static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
