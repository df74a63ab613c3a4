using System.Text.RegularExpressions;
using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Recipes;

/// <summary>
/// Turns the recipe's YAML tree into a <see cref="Recipe"/>: reads each section with its allowed keys, applies
/// defaults, and checks every value and every combination of values that can be judged without the backbone or data.
/// </summary>
internal sealed partial class RecipeReader(RecipeDocument document, string baseDirectory)
{
    private static readonly string[] RootKeys =
    [
        "name", "backbone", "input", "head", "strategy", "trainable", "fine_tune_last", "stages", "data", "optimizer",
        "schedule", "epochs", "batch_size", "label_smoothing", "class_weights", "early_stopping", "seed", "batch_norm",
    ];

    private static readonly Dictionary<string, TransferStrategy> Strategies = new()
    {
        ["feature-extraction"] = TransferStrategy.FeatureExtraction,
        ["truncate"] = TransferStrategy.Truncate,
        ["fine-tune"] = TransferStrategy.FineTune,
        ["from-scratch"] = TransferStrategy.FromScratch,
    };

    private static readonly Dictionary<string, ChannelFormat> Channels = new(PreprocessingSpec.ChannelNames);
    private static readonly Dictionary<string, TensorLayout> Layouts = new(PreprocessingSpec.LayoutNames);
    private static readonly Dictionary<string, HeadPooling> Poolings = new() { ["average"] = HeadPooling.Average, ["flatten"] = HeadPooling.Flatten };

    private static readonly Dictionary<string, BatchNormPolicy> BatchNormPolicies = new()
    {
        ["frozen"] = BatchNormPolicy.Frozen,
        ["train"] = BatchNormPolicy.Train,
        ["adabn"] = BatchNormPolicy.AdaBn,
    };

    private const int DefaultEpochs = 10;
    private const int DefaultBatchSize = 32;

    // Sizes bounded before anything is allocated: far above any real run, far below what overflows an int or a tensor
    // (the memory check of train then compares the whole run with what the machine has).
    internal const int MaxBatchSize = 65_536;
    internal const int MaxInputSide = 8_192;
    internal const int MaxHiddenLayers = 16;
    internal const int MaxLayerWidth = 65_536;
    internal const int MaxArchitectureWidth = 4_096;
    internal const int MaxBlocksPerStage = 64;
    internal const double MaxWidthMultiplier = 16;

    public Recipe Read(string canonicalYaml, string hash)
    {
        var root = new MappingReader(document, document.Root, "", RootKeys);

        var name = root.String("name") ?? NotFolderCharacters().Replace(Path.GetFileNameWithoutExtension(document.File), "-");
        root.Require("name", FolderName().IsMatch(name), "must be a folder name made of letters, digits, '.', '_' and '-'");

        var backboneSection = root.Required("backbone").Mapping(["path", "cut", "architecture", "preprocess"]);
        var backbone = ReadBackbone(backboneSection);
        var strategy = root.Enum("strategy", Strategies) ?? TransferStrategy.FeatureExtraction;
        if (strategy == TransferStrategy.Truncate && backbone.Cut == BackboneCut.Head)
        {
            const string reason = "strategy truncate needs backbone.cut set to a tensor name or a cut-point index from 'onnx-trainer inspect' (it is head)";
            throw backboneSection.Has("cut") ? backboneSection.Error("cut", reason) : root.Error("strategy", reason);
        }

        var trainable = root.Get("trainable")?.DistinctList(item => item.String());
        var fineTuneLast = root.Int("fine_tune_last");
        root.Require("fine_tune_last", fineTuneLast is null or >= 1, "must be at least 1");
        if (fineTuneLast is not null && strategy != TransferStrategy.FineTune)
            throw root.Error("fine_tune_last", $"fine_tune_last applies only to strategy fine-tune (strategy is {NameOf(Strategies, strategy)})");
        if (fineTuneLast is not null && trainable is not null)
            throw root.Error("fine_tune_last", "set either trainable or fine_tune_last, not both");

        var stages = ReadStages(root, strategy);
        int epochs;
        if (stages.Count > 0)
        {
            root.Forbid("epochs", "cannot be set with stages: the total is the sum of the stages' epochs (set stages.N.epochs)");
            epochs = stages.Sum(s => s.Epochs);
            if (epochs == 0) throw root.Error("stages", "the stages' epochs add up to 0: at least one stage must train");
        }
        else
        {
            epochs = root.Int("epochs") ?? DefaultEpochs;
            root.Require("epochs", epochs >= 1, "must be at least 1");
        }

        var data = ReadData(root.Required("data").Mapping(DataKeys));
        var optimizer = ReadOptimizer(root.Mapping("optimizer", OptimizerKeys));
        var schedule = ReadSchedule(root.Mapping("schedule", ScheduleKeys), optimizer, epochs);

        var batchSize = root.Int("batch_size") ?? DefaultBatchSize;
        root.Require("batch_size", batchSize >= 1, "must be at least 1");
        root.Require("batch_size", batchSize <= MaxBatchSize, $"must be at most {MaxBatchSize:N0}");
        var labelSmoothing = root.Double("label_smoothing") ?? 0;
        root.Require("label_smoothing", labelSmoothing is >= 0 and < 1, "must be in [0, 1)");

        var classWeights = ReadClassWeights(root.Get("class_weights"), data.Train);
        var earlyStopping = ReadEarlyStopping(root.Mapping("early_stopping", EarlyStoppingKeys));
        if (earlyStopping is not null && !data.HasValidation)
            throw root.Error("early_stopping", "early_stopping needs validation data: set data.val or data.val_split");

        var seed = root.Int("seed") ?? 0;
        root.Require("seed", seed >= 0, "must be a non-negative integer");

        // Re-initialized running statistics (mean 0, variance 1) are meaningless until trained.
        var batchNorm = root.Enum("batch_norm", BatchNormPolicies) ?? (strategy == TransferStrategy.FromScratch ? BatchNormPolicy.Train : BatchNormPolicy.Frozen);
        if (strategy == TransferStrategy.FromScratch && batchNorm != BatchNormPolicy.Train)
            throw root.Error("batch_norm", $"batch_norm must be train with strategy from-scratch: there are no pretrained statistics to keep (got {NameOf(BatchNormPolicies, batchNorm)})");

        return new Recipe
        {
            Name = name,
            Backbone = backbone,
            Input = ReadInput(root.Mapping("input", ["size", "resize", "channels", "range", "layout", "mean", "std"])),
            Head = ReadHead(root.Mapping("head", ["hidden", "dropout", "pooling"])),
            Strategy = strategy,
            Trainable = trainable,
            FineTuneLast = fineTuneLast,
            Stages = stages,
            Data = data,
            Optimizer = optimizer,
            Schedule = schedule,
            Epochs = epochs,
            BatchSize = batchSize,
            LabelSmoothing = labelSmoothing,
            ClassWeights = classWeights,
            EarlyStopping = earlyStopping,
            Seed = seed,
            BatchNorm = batchNorm,
            SourceFile = document.File,
            CanonicalYaml = canonicalYaml,
            Hash = hash,
            Locations = document.IndexLocations(),
        };
    }

    private BackboneSpec ReadBackbone(MappingReader backbone)
    {
        if (backbone.Has("path") == backbone.Has("architecture"))
            throw backbone.Error(backbone.Has("path") ? "architecture" : "path", "backbone needs exactly one of path (an ONNX file) and architecture (built from scratch)");
        var path = backbone.Has("path") ? Resolve(backbone.Required("path").String()) : null;
        if (backbone.Has("preprocess") && path is null)
            throw backbone.Error("preprocess", "backbone.preprocess goes in front of a backbone file: set backbone.path");
        var preprocess = backbone.Has("preprocess") ? Resolve(backbone.Required("preprocess").String()) : null;
        var cut = backbone.Get("cut") switch
        {
            null => BackboneCut.Head,
            { IsInt: true } index => new BackboneCut(CutPointIndex: index.Int()),
            var tensor when tensor.Value.String() == "head" => BackboneCut.Head,
            var tensor => new BackboneCut(TensorName: tensor.Value.String()),
        };
        backbone.Require("cut", cut.CutPointIndex is null or >= 0, "must be a cut-point index >= 0, a tensor name or head");
        if (backbone.Mapping("architecture", ArchitectureKeys) is not { } architecture) return new BackboneSpec(path, cut, Preprocess: preprocess);

        var name = architecture.Required("name").String();
        architecture.Require("name", ArchitectureFactory.Names.Contains(name), $"must be one of {string.Join(", ", ArchitectureFactory.Names)}");
        var options = new ArchitectureOptions { SmallInputStem = architecture.Bool("small_input_stem") ?? false };
        if (architecture.Int("width") is int width)
        {
            architecture.Require("width", width is >= 1 and <= MaxArchitectureWidth, $"must be 1 to {MaxArchitectureWidth:N0} channels");
            options = options with { Width = width };
        }
        if (architecture.Get("blocks") is { } blocks)
        {
            var counts = blocks.Items();
            blocks.Require(counts.Count is >= 1 and <= MaxBlocksPerStage && counts.All(c => c.IsInt && c.Int() is >= 1 and <= MaxBlocksPerStage),
                $"must be a list of block counts >= 1 per stage (at most {MaxBlocksPerStage} stages of {MaxBlocksPerStage} blocks)");
            options = options with { BlocksPerStage = [.. counts.Select(c => c.Int())] };
        }
        if (architecture.Double("width_multiplier") is double multiplier)
        {
            architecture.Require("width_multiplier", multiplier is > 0 and <= MaxWidthMultiplier, $"must be > 0 and at most {MaxWidthMultiplier}");
            options = options with { WidthMultiplier = multiplier };
        }
        if (architecture.Int("stages") is int stages)
        {
            architecture.Require("stages", stages is >= 1 and <= MobileNetV2Builder.SettingRows, $"must be 1..{MobileNetV2Builder.SettingRows}");
            options = options with { Stages = stages };
        }
        return new BackboneSpec(path, cut, name, options);
    }

    private static readonly string[] ArchitectureKeys = ["name", "width", "blocks", "width_multiplier", "stages", "small_input_stem"];

    private static InputSpec ReadInput(MappingReader? input)
    {
        if (input is null) return new InputSpec(null, null, null, null, null, null);
        int? height = null, width = null;
        if (input.Get("size") is { } size)
        {
            const string requirement = "must be two integers [height, width]";
            var items = size.Tuple(2, requirement);
            size.Require(items.All(i => i.IsInt), requirement);
            (height, width) = (items[0].Int(), items[1].Int());
            size.Require(height >= 1 && width >= 1, "must be positive");
            size.Require(height <= MaxInputSide && width <= MaxInputSide, $"must be at most {MaxInputSide:N0} pixels a side");
        }
        var resize = input.Int("resize");
        input.Require("resize", resize is null or >= 1, "must be at least 1");
        if (resize is not null && height is not null)
            input.Require("resize", resize >= Math.Min(height.Value, width!.Value), $"must be at least the smaller side of input.size ({Math.Min(height.Value, width.Value)}) so the center crop fits");

        var channels = input.Enum("channels", Channels);
        var range = input.Int("range");
        input.Require("range", range is null or 1 or 255, "must be 1 or 255 (the pixel value of white)");
        var layout = input.Enum("layout", Layouts);
        var mean = ReadChannelValues(input, "mean", channels, range ?? 1);
        var std = ReadChannelValues(input, "std", channels, range ?? 1);
        if (std is not null) input.Require("std", std.All(s => s > 0), "must be positive");
        if (mean is not null && std is not null && mean.Count != std.Count)
            throw input.Error("std", $"input.std has {std.Count} values but input.mean has {mean.Count}");
        return new InputSpec(height, width, resize, channels, mean, std, range, layout);
    }

    /// <summary>Mean or std: one value per channel on the 0..<paramref name="range"/> pixel scale.</summary>
    private static List<double>? ReadChannelValues(MappingReader input, string key, ChannelFormat? channels, int range)
    {
        if (input.Get(key) is not { } list) return null;
        var values = list.Items().Select(item => item.Double()).ToList();
        int expected = channels == ChannelFormat.L ? 1 : 3;
        list.Require(channels is null ? values.Count is 1 or 3 : values.Count == expected,
            channels is null ? "must have 1 or 3 values (one per channel)" : $"must have {expected} value{(expected == 1 ? "" : "s")} for channels {NameOf(Channels, channels.Value)}");
        // ImageNet's values are often pasted on the other scale than the recipe's range. On 0..255 a mean of zeros
        // (a preprocessing graph subtracts it) and a std of ones (Caffe) are usual; a mean within 0..1 is a slip.
        const string scale255 = "must be on the 0..255 pixel scale of input.range: 255 (e.g. 123.7, not 0.485)";
        list.Require(values.All(v => v >= 0 && v <= range), range == 1
            ? "must be on the 0..1 pixel scale (e.g. 0.485, not 123.7); for 0..255 values set input.range: 255"
            : scale255);
        if (range == 255 && key == "mean") list.Require(values.Max() is 0 or > 1, scale255);
        return values;
    }

    private static HeadSpec ReadHead(MappingReader? head)
    {
        var hiddenValue = head?.Get("hidden");
        var hidden = hiddenValue?.Items().Select(item =>
        {
            var width = item.Int();
            item.Require(width is >= 1 and <= MaxLayerWidth, $"must be a layer width of 1 to {MaxLayerWidth:N0}");
            return width;
        }).ToList() ?? [];
        hiddenValue?.Require(hidden.Count <= MaxHiddenLayers, $"must list at most {MaxHiddenLayers} hidden layers");
        var dropout = head?.Double("dropout") ?? 0;
        head?.Require("dropout", dropout is >= 0 and < 1, "must be in [0, 1)");
        var pooling = head?.Enum("pooling", Poolings) ?? HeadPooling.Average;
        return new HeadSpec(hidden, dropout, pooling);
    }

    private static List<StageSpec> ReadStages(MappingReader root, TransferStrategy strategy)
    {
        if (root.Get("stages") is not { } stagesValue) return [];
        var items = stagesValue.Items();
        stagesValue.Require(items.Count > 0, "must list at least one stage");
        if (strategy != TransferStrategy.FineTune)
            throw stagesValue.Error($"stages apply only to strategy fine-tune (strategy is {NameOf(Strategies, strategy)})");
        foreach (var key in new[] { "trainable", "fine_tune_last" })
            root.Forbid(key, "cannot be combined with stages: give each stage its own trainable or unfreeze_last");

        return items.Select(item =>
        {
            var stage = item.Mapping(["trainable", "unfreeze_last", "epochs", "learning_rate"]);
            var patterns = stage.Get("trainable")?.DistinctList(p => p.String());
            var unfreezeLast = stage.Int("unfreeze_last");
            stage.Require("unfreeze_last", unfreezeLast is null or >= 0, "must be a number of blocks >= 0");
            if (patterns is null && unfreezeLast is null)
                throw item.Error($"{item.Path} needs trainable (patterns) or unfreeze_last (a number of blocks)");
            if (patterns is not null && unfreezeLast is not null)
                throw stage.Error("unfreeze_last", $"{item.Path}: set either trainable or unfreeze_last, not both");
            var epochs = stage.Required("epochs").Int();
            stage.Require("epochs", epochs >= 0, "must be >= 0");
            var learningRate = stage.Double("learning_rate");
            stage.Require("learning_rate", learningRate is null or > 0, "must be > 0");
            return new StageSpec(patterns, unfreezeLast, epochs, learningRate);
        }).ToList();
    }

    private string Resolve(string path) => Path.GetFullPath(Path.Combine(baseDirectory, path));

    private static string NameOf<T>(Dictionary<string, T> names, T value) => names.First(entry => EqualityComparer<T>.Default.Equals(entry.Value, value)).Key;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex FolderName();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex NotFolderCharacters();
}
