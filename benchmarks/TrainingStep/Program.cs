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

if (options.Serve)
{
    StepServer.Serve(options, Console.In, Console.Out);
    return 0;
}

// Before anything else touches ONNX Runtime, as in the trainer (the profiled steps run here).
SharedThreadPool.EnsureCreated();
var missing = options.Models.Where(m => !File.Exists(BenchmarkModels.PathOf(options.ModelsDir, m))).ToList();
if (missing.Count > 0)
{
    Console.WriteLine($"exporting {string.Join(", ", missing)} with {options.TorchScript} ...");
    StepPeer.ExportTorchModels(options.Python, options.TorchScript, missing);
}

Console.WriteLine(Inv($"training step, batch {string.Join(", ", options.Batches)}, 224x224, {options.Threads} threads, {(options.Chunks == 0 ? "chunks as the trainer chooses" : $"{options.Chunks} chunk(s)")}, warmup {options.Warmup}, median of {options.Repeats}; each case in fresh processes"));
Console.WriteLine($"date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores ({CpuModel()}), ONNX Runtime {OrtEnv.Instance().GetVersionString()}, load {LoadAverage()}");
var formats = options.WithTorch ? options.TorchMemoryFormats : [];
if (formats.Count > 0) Console.WriteLine($"PyTorch peers: {string.Join(", ", formats)} memory format");
Console.WriteLine();

if (options.SaveGraphsDir is { } graphsDir) Directory.CreateDirectory(graphsDir);
string[] serveOptions = ["--threads", Inv($"{options.Threads}"), "--chunks", Inv($"{options.Chunks}"), "--models-dir", options.ModelsDir,
    .. options.SaveGraphsDir is { } saveDir ? ["--save-graphs", saveDir] : Array.Empty<string>()];
var results = new List<CaseResult>();
var profiles = new Dictionary<string, ProfileSummary>();
foreach (var batch in options.Batches)
foreach (var modelName in options.Models)
foreach (var setting in options.Settings)
{
    var loadBefore = LoadAverage();
    // Every side of the case in a fresh process: ours and one PyTorch process per memory format.
    using var ort = StepPeer.Ort(serveOptions);
    var peers = formats.Select(format => StepPeer.Torch(options.Python, options.TorchScript, options.Threads, format)).ToList();
    try
    {
        var info = ort.Prepare(modelName, setting, batch, options.Warmup);
        foreach (var peer in peers) peer.Prepare(modelName, setting, batch, options.Warmup);

        // ORT and PyTorch steps alternate, so that all sides see the same moments of a shared machine.
        var times = new double[options.Repeats];
        var peerTimes = peers.Select(_ => new double[options.Repeats]).ToArray();
        for (int i = 0; i < times.Length; i++)
        {
            times[i] = ort.Step();
            for (int k = 0; k < peers.Count; k++) peerTimes[k][i] = peers[k].Step();
        }
                var result = new CaseResult(modelName, setting, batch, info.GetProperty("trainable").GetInt32(), info.GetProperty("nodes").GetInt32(),
            info.GetProperty("build_ms").GetDouble(), info.GetProperty("serialize_ms").GetDouble(), info.GetProperty("session_ms").GetDouble(),
            Median(times), times.Min(), ort.LastLoss, [.. times.Select(t => Math.Round(t, 1))])
        {
            Chunks = info.GetProperty("chunks").GetInt32(),
            PositionsPerImage = Math.Round(info.GetProperty("positions_per_image").GetDouble()),
            Memory = ort.Memory(),
            Peers = [.. peers.Select((p, k) => new PeerResult(formats[k], Median(peerTimes[k]), peerTimes[k].Min(),
                [.. peerTimes[k].Select(t => Math.Round(t, 1))], Median(times), p.Memory()))],
        };
        var memory = result.Memory!;
        Console.WriteLine(Inv($"{modelName,-13} {setting,-10} batch {batch,-3} ORT {result.OrtMs,8:F1} ms (min {result.OrtMinMs:F1}; loss {result.Loss:F3}; {result.Trainable} trainable, {result.Nodes} nodes; {result.Chunks} chunk(s), {result.PositionsPerImage:F0} positions/image; build {result.BuildMs:F0} ms, session {result.SessionMs:F0} ms)"));
        Console.WriteLine(Inv($"{"",-13} {"",-10} {"",-9} ORT peak RSS {Mib(memory.PeakRss)} MiB (at start {Mib(memory.BaselineRss)}, after the steps {Mib(memory.Rss)}; arenas {Mib(memory.ArenaReserved ?? 0)} MiB reserved, {Mib(memory.ArenaPeakInUse ?? 0)} at most in use)"));
        foreach (var peer in result.Peers)
            Console.WriteLine(Inv($"{"",-13} {"",-10} {"",-9} PyTorch {peer.Ms,4:F1} ms (min {peer.MinMs:F1}; {peer.MemoryFormat}) -> ratio {peer.Ratio:F2}; peak RSS {Mib(peer.Memory.PeakRss)} MiB (at start {Mib(peer.Memory.BaselineRss)}) -> memory ratio {(double)memory.PeakRss / peer.Memory.PeakRss:F2}"));
        result = result with { Load = $"{loadBefore} -> {LoadAverage()}" };
        Console.WriteLine($"{"",-13} {"",-10} {"",-9} load average {result.Load}");
        results.Add(result);
    }
    finally
    {
        // (Should a case throw, the peers end with their input closed.)
        foreach (var peer in peers) peer.Dispose();
    }

    if (options.Profile)
    {
        var forward = ModelReader.Load(BenchmarkModels.PathOf(options.ModelsDir, modelName));
        ShapeInference.Run(forward.Graph, forward.OpsetVersion);
        var trainable = BenchmarkModels.Trainable(forward.Graph, options.ModelsDir, modelName, setting);
        var prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{modelName}-{setting}-{batch}");
        using var step = new OrtTrainingStep(forward, trainable, batch, options.Threads, options.Chunks, profilePrefix: prefix);
        int warmup = Math.Max(options.Warmup, 1);
        for (int i = 0; i < warmup + options.ProfileRuns; i++) step.Step();
        var file = step.EndProfiling()[0];
        var summary = ProfileSummary.Read(file, ConvLabels(forward.Graph), warmup);
        profiles[$"{modelName} {setting} batch {batch}"] = summary;
        Console.WriteLine($"profile of {modelName} {setting} batch {batch} ({file}):");
        Console.Write(summary.Format(top: 15));
    }
}

Console.WriteLine();
Console.WriteLine("| model | setting | batch | trainable tensors | training-graph nodes | chunks | graph build ms | session create ms | ORT ms | "
    + string.Concat(formats.Select(f => $"PyTorch {f} ms | ratio | ")) + "target | ORT peak RSS MiB | ORT arenas MiB | "
    + string.Concat(formats.Select(f => $"PyTorch {f} peak RSS MiB | ratio | ")));
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|" + string.Concat(formats.Select(_ => "---:|---:|")) + "---:|---:|---:|" + string.Concat(formats.Select(_ => "---:|---:|")));
foreach (var r in results)
{
    var target = r.Setting == "full" ? 1.2 : 1.0;
    var peerCells = string.Concat(r.Peers.Select(p => Inv($"{p.Ms:F1} | {p.Ratio:F2} | ")));
    var memoryCells = string.Concat(r.Peers.Select(p => Inv($"{Mib(p.Memory.PeakRss)} | {(double)r.Memory!.PeakRss / p.Memory.PeakRss:F2} | ")));
    Console.WriteLine(Inv($"| {r.Model} | {r.Setting} | {r.Batch} | {r.Trainable} | {r.Nodes} | {r.Chunks} | {r.BuildMs:F0} | {r.SessionMs:F0} | {r.OrtMs:F1} | {peerCells}<= {target:F1} | {Mib(r.Memory!.PeakRss)} | {Mib(r.Memory.ArenaReserved ?? 0)} | {memoryCells}"));
}

if (options.JsonPath is { } jsonPath)
{
    var json = new
    {
        date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        cores = Environment.ProcessorCount,
        cpu = CpuModel(),
        ort = OrtEnv.Instance().GetVersionString(),
        options.Batches, options.Threads, options.Chunks, options.Warmup, options.Repeats, torchMemoryFormats = formats,
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

static long Mib(long bytes) => (bytes + (1 << 19)) >> 20;
