using OnnxTrainer.Artifacts;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using Attribute = OnnxTrainer.Ir.Attribute;

// Times the backward subgraphs the Conv gradient rule emits (dX and dW separately, dY fed as an
// input) for typical ResNet-18 / MobileNetV2 layers on ONNX Runtime CPU: ORT_ENABLE_ALL, 2 intra-op
// threads, median of repeats. Compare with conv_backward_torch.py (same layers, same order).
//   dotnet run -c Release --project benchmarks/Backward [-- --batch 16 --repeats 15 --only NAME --dump DIR --profile PREFIX]

var options = Options.Parse(args);
Console.WriteLine($"Conv backward on ONNX Runtime CPU, batch {options.Batch}, 2 threads, median (min) of {options.Repeats} runs, ms");
Console.WriteLine($"{"layer",-34} {"dX",15} {"dW",15}");
foreach (var layer in ConvLayer.Typical)
{
    if (options.Only is { } only && !layer.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
    string dx = layer.SkipInputGradient ? "-" : Format(Time(layer, options, inputGradient: true));
    string dw = Format(Time(layer, options, inputGradient: false));
    Console.WriteLine($"{layer.Name,-34} {dx,15} {dw,15}");
}

// The minimum is reported beside the median: on a shared machine it is the steadier figure.
static string Format((double Median, double Min) ms) =>
    string.Create(CultureInfo.InvariantCulture, $"{ms.Median:F1} ({ms.Min:F1})");

static (double Median, double Min) Time(ConvLayer layer, Options options, bool inputGradient)
{
    var model = layer.BackwardModel(layer.Batch ?? options.Batch, inputGradient);
    using var sessionOptions = new SessionOptions
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = 2,
        InterOpNumThreads = 1,
    };
    if (options.Dump is { } dir)
    {
        Directory.CreateDirectory(dir);
        string stem = Path.Combine(dir, $"{layer.Name.Replace(' ', '_')}_{(inputGradient ? "dX" : "dW")}");
        File.WriteAllBytes(stem + ".onnx", ModelWriter.ToBytes(model));
        sessionOptions.OptimizedModelFilePath = stem + ".optimized.onnx";
    }
    if (options.Profile is { } prefix)
    {
        sessionOptions.ProfileOutputPathPrefix = $"{prefix}{layer.Name.Replace(' ', '_')}_{(inputGradient ? "dX" : "dW")}";
        sessionOptions.EnableProfiling = true;
    }
    using var session = new InferenceSession(ModelWriter.ToBytes(model), sessionOptions);
    var random = new Random(1);
    var feeds = new Dictionary<string, OrtValue>();
    try
    {
        foreach (var input in model.Graph.Inputs)
        {
            long[] shape = input.Type!.KnownDims!;
            var data = new float[Tensor.ElementCount(shape)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            feeds[input.Name] = OrtValue.CreateTensorValueFromMemory(data, shape);
        }
        using var runOptions = new RunOptions();
        var outputNames = session.OutputNames;
        var times = new List<double>();
        for (int i = 0; i < options.Warmup + options.Repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            using (var outputs = session.Run(runOptions, feeds, outputNames)) { }
            if (i >= options.Warmup) times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[0]);
    }
    finally
    {
        foreach (var value in feeds.Values) value.Dispose();
    }
}

internal sealed record Options(int Batch, int Repeats, int Warmup, string? Only, string? Dump, string? Profile = null)
{
    public static Options Parse(string[] args)
    {
        var o = new Options(16, 15, 3, null, null);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            o = args[i] switch
            {
                "--batch" => o with { Batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--repeats" => o with { Repeats = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--warmup" => o with { Warmup = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--only" => o with { Only = args[i + 1] },
                "--dump" => o with { Dump = args[i + 1] },
                "--profile" => o with { Profile = args[i + 1] },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return o;
    }
}

/// <summary>One Conv layer: C -> M channels at H x H input, square kernel k, stride, symmetric pad, group; its own batch size, or the run's.</summary>
internal sealed record ConvLayer(string Name, long C, long H, long M, long K, long Stride, long Pad, long Group, bool SkipInputGradient = false, long? Batch = null)
{
    // Keep in sync with conv_backward_torch.py.
    public static readonly ConvLayer[] Typical =
    [
        new("resnet18 conv1 7x7 s2 3->64 @224", 3, 224, 64, 7, 2, 3, 1, SkipInputGradient: true),
        new("resnet18 3x3 64->64 @56", 64, 56, 64, 3, 1, 1, 1),
        new("resnet18 3x3 s2 64->128 @56", 64, 56, 128, 3, 2, 1, 1),
        new("resnet18 1x1 s2 64->128 @56", 64, 56, 128, 1, 2, 0, 1),
        new("resnet18 3x3 128->128 @28", 128, 28, 128, 3, 1, 1, 1),
        new("resnet18 3x3 256->256 @14", 256, 14, 256, 3, 1, 1, 1),
        new("resnet18 3x3 512->512 @7", 512, 7, 512, 3, 1, 1, 1),
        new("resnet18 3x3 s2 256->512 @14", 256, 14, 512, 3, 2, 1, 1),
        new("mbv2 conv1 3x3 s2 3->32 @224", 3, 224, 32, 3, 2, 1, 1, SkipInputGradient: true),
        new("mbv2 dw 3x3 32 @112", 32, 112, 32, 3, 1, 1, 32),
        new("mbv2 dw 3x3 s2 96 @112", 96, 112, 96, 3, 2, 1, 96),
        new("mbv2 1x1 24->144 @56", 24, 56, 144, 1, 1, 0, 1),
        new("mbv2 dw 3x3 144 @56", 144, 56, 144, 3, 1, 1, 144),
        new("mbv2 dw 3x3 s2 144 @56", 144, 56, 144, 3, 2, 1, 144),
        new("mbv2 1x1 144->24 @56", 144, 56, 24, 1, 1, 0, 1),
        new("mbv2 dw 3x3 192 @28", 192, 28, 192, 3, 1, 1, 192),
        new("mbv2 dw 3x3 576 @14", 576, 14, 576, 3, 1, 1, 576),
        new("mbv2 dw 3x3 960 @7", 960, 7, 960, 3, 1, 1, 960),
        new("mbv2 1x1 320->1280 @7", 320, 7, 1280, 1, 1, 0, 1),
        // The shipped 32x32 backbone (models/onnx/resnet-fmnist-source.onnx) at recipes/fine-tune.yaml's batch.
        new("fmnist 3x3 16->16 @32 b64", 16, 32, 16, 3, 1, 1, 1, Batch: 64),
        new("fmnist 3x3 s2 32->64 @16 b64", 32, 16, 64, 3, 2, 1, 1, Batch: 64),
        new("fmnist 3x3 64->64 @8 b64", 64, 8, 64, 3, 1, 1, 1, Batch: 64),
        new("fmnist 3x3 s2 64->128 @8 b64", 64, 8, 128, 3, 2, 1, 1, Batch: 64),
        new("fmnist 3x3 128->128 @4 b64", 128, 4, 128, 3, 1, 1, 1, Batch: 64),
    ];

    public long Out => (H + 2 * Pad - K) / Stride + 1;

    /// <summary>
    /// The gradient builder's output for this layer with dY as a graph input: only the nodes the
    /// Conv rule emitted for dX (or dW) survive.
    /// </summary>
    public Model BackwardModel(long batch, bool inputGradient)
    {
        var model = new Model();
        model.Opsets[""] = 17;
        var graph = model.Graph;
        var b = new GraphBuilder(graph, 17, "bench");
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, batch, C, H, H));
        var w = graph.AddInput("w", TensorType.Of(DataType.Float, M, C / Group, K, K));
        var y = b.Op("Conv", [x, w], Attribute.Of("strides", [Stride, Stride]), Attribute.Of("pads", [Pad, Pad, Pad, Pad]),
            Attribute.Of("group", Group), Attribute.Of("kernel_shape", [K, K]));
        y.Type = TensorType.Of(DataType.Float, batch, M, Out, Out);
        var loss = b.ReduceSum(y, [0, 1, 2, 3], keepDims: false);
        loss.Type = TensorType.Of(DataType.Float);
        var conv = y.Producer!;
        GradientBuilder.Build(graph, 17, loss, [inputGradient ? x : w], TrainingContract.Gradient);

        string prefix = conv.Name + GradientBuilder.BackwardSuffix + "/";
        var ruleNodes = graph.Nodes.Where(n => n.Name.StartsWith(prefix, StringComparison.Ordinal)).ToHashSet();
        // dY: what the rule reads from another rule (the loss's); forward values it reads (an unfolded X) stay.
        var upstream = ruleNodes.SelectMany(n => n.Inputs)
            .Where(v => v?.Producer is { } p && !ruleNodes.Contains(p) && p.Name.Contains(GradientBuilder.BackwardSuffix + "/", StringComparison.Ordinal))
            .Distinct().Single()!;
        var dy = graph.AddInput("dy", y.Type);
        graph.ReplaceAllUsesWith(upstream, dy);
        graph.Outputs.RemoveAll(o => o == loss);
        graph.RemoveDeadNodes();
        graph.Inputs.RemoveAll(i => i.Users.Count == 0);
        return model;
    }
}
