using System.Globalization;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>Command-line settings of the training-step benchmark.</summary>
internal sealed class BenchmarkOptions
{
    /// <summary>The two the issue's targets name; the others are timed on request.</summary>
    public static readonly string[] DefaultModels = ["mobilenet_v2", "resnet18"];
    public static readonly string[] AllModels = [.. DefaultModels, "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "densenet121", "convnext_tiny"];
    public static readonly string[] AllSettings = ["last-block", "full"];
    public static readonly string[] AllMemoryFormats = ["contiguous", "channels_last"];

    public List<string> Models { get; private set; } = [.. DefaultModels];
    public List<string> Settings { get; private set; } = [.. AllSettings];
    public List<int> Batches { get; private set; } = [16];
    public int Warmup { get; private set; } = 3;
    public int Repeats { get; private set; } = 10;
    public int Threads { get; private set; } = 2;
    public int Chunks { get; private set; }
    public bool WithTorch { get; private set; }
    public bool Profile { get; private set; }
    public int ProfileRuns { get; private set; } = 3;
    public string ModelsDir { get; private set; } = "";
    public string TorchScript { get; private set; } = "";
    public string Python { get; private set; } = "/usr/bin/python3";
    /// <summary>One PyTorch peer per memory format, all timed in turn with ORT.</summary>
    public List<string> TorchMemoryFormats { get; private set; } = [.. AllMemoryFormats];
    public string? JsonPath { get; private set; }
    public string? SaveGraphsDir { get; private set; }
    /// <summary>Serve our side of one case on stdin/stdout (<see cref="StepServer"/>): how the benchmark runs each case in a process of its own.</summary>
    public bool Serve { get; private set; }

    public const string Usage = """
        training-step-bench: times one training step (forward + backward of mean cross-entropy) of our
        ONNX training graphs on ONNX Runtime (CPU) for MobileNetV2 and ResNet-18 (or other backbones) at 224x224.

        options:
          --models NAME[,NAME]     mobilenet_v2,resnet18 (default both), mobilenet_v3_large, efficientnet_b0,
                                   shufflenet_v2_x1_0, densenet121, convnext_tiny
          --settings S[,S]         last-block,full (default both)
          --batch N[,N]            batch sizes (16)
          --warmup N               untimed steps first (3)
          --repeats N              timed steps; the median is reported (10)
          --threads N              ORT threads (shared by the chunks) and torch threads (2)
          --chunks N               run the batch in N chunks at once (default: the trainer's choice, one per
                                   thread where the trainable layers work over large planes; 1: no chunks)
          --with-torch             also time the PyTorch peers (training_step_torch.py serve, one process per
                                   memory format) in this run, their steps alternating with ORT's
          --profile                ORT profile of each case (after timing): top op types by time in the
                                   training graph's first chunk (not the frozen prefix)
          --profile-runs N         steps profiled after one unprofiled warm-up step (3)
          --models-dir DIR         where <model>.onnx lives (default benchmarks/TrainingStep/models;
                                   exported by the torch script when missing)
          --python PATH            Python with torch (/usr/bin/python3)
          --torch-memory-format F  the peers' memory formats, contiguous,channels_last (default both):
                                   PyTorch's NCHW default and its fastest state here
          --json FILE              also write all results as JSON
          --save-graphs DIR        write each training graph (and ORT's optimized form) for inspection

        Each case runs in fresh processes, ours (this program's `serve` command) and PyTorch's, so that each
        process's peak resident memory (VmHWM) is the case's own; both are reported with ORT's arena sizes.
        """;

    public static BenchmarkOptions Parse(string[] args)
    {
        var o = new BenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture) is var n && n >= 0 ? n : throw new ArgumentException($"{args[i - 1]} must be >= 0");
            switch (args[i])
            {
                case "--models": o.Models = Split(Next(), AllModels); break;
                case "--settings": o.Settings = Split(Next(), AllSettings); break;
                case "--batch": o.Batches = [.. Next().Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture))]; break;
                case "--warmup": o.Warmup = NextInt(); break;
                case "--repeats": o.Repeats = NextInt(); break;
                case "--threads": o.Threads = NextInt(); break;
                case "--chunks": o.Chunks = NextInt(); break;
                case "--with-torch": o.WithTorch = true; break;
                case "--profile": o.Profile = true; break;
                case "--profile-runs": o.ProfileRuns = NextInt(); break;
                case "--models-dir": o.ModelsDir = Path.GetFullPath(Next()); break;
                case "--python": o.Python = Next(); break;
                case "--torch-memory-format": o.TorchMemoryFormats = Split(Next(), AllMemoryFormats); break;
                case "--json": o.JsonPath = Path.GetFullPath(Next()); break;
                case "--save-graphs": o.SaveGraphsDir = Path.GetFullPath(Next()); break;
                case "serve" when i == 0: o.Serve = true; break;
                case "-h" or "--help": throw new HelpRequestedException();
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (o.Batches.Any(b => b < 1) || o.Repeats < 1 || o.Threads < 1) throw new ArgumentException("--batch, --repeats and --threads must be >= 1");
        if (o.Chunks < 0) throw new ArgumentException("--chunks must be >= 0 (0: the trainer's choice)");

        // The benchmark's own folder holds the torch script and (by default) the models; find it from the
        // binary so the program runs from any working directory.
        var home = FindBenchmarkFolder();
        o.TorchScript = Path.Combine(home, "training_step_torch.py");
        if (o.ModelsDir.Length == 0) o.ModelsDir = Path.Combine(home, "models");
        return o;
    }

    private static List<string> Split(string value, string[] allowed)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var item in items)
            if (!allowed.Contains(item)) throw new ArgumentException($"'{item}' is not one of {string.Join(", ", allowed)}");
        return items;
    }

    private static string FindBenchmarkFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "benchmarks", "TrainingStep");
            if (File.Exists(Path.Combine(candidate, "training_step_torch.py"))) return candidate;
            if (File.Exists(Path.Combine(dir.FullName, "training_step_torch.py"))) return dir.FullName;
        }
        throw new InvalidOperationException("cannot find benchmarks/TrainingStep (training_step_torch.py) above " + AppContext.BaseDirectory);
    }
}
