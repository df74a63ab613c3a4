using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>
/// Everything a run derives from its recipe before the first step: data, preprocessing, the assembled
/// classifier, which parameters train in each stage, and the loss. Shared by <c>train</c> and <c>artifacts</c>.
/// </summary>
public sealed record RunSetup(
    Recipe Recipe,
    RunDatasets Data,
    PreprocessingSpec Preprocessing,
    ClassifierAssembly Assembly,
    TrainablePlan Plan,
    LossOptions Loss)
{
    /// <param name="stop">Checked between the phases (data scan, backbone load, assembly): a signal during setup ends it.</param>
    public static RunSetup Prepare(Recipe recipe, StopSignal? stop = null)
    {
        RecipeFiles.EnsureExist(recipe);
        stop?.ThrowIfRequested("scanning the data");
        var data = RunDatasets.Open(recipe.Data, recipe.Seed);
        stop?.ThrowIfRequested("loading the backbone");
        var backbone = recipe.Backbone.Path is { } path ? ModelReader.LoadImageModel(path) : Architecture(recipe, data.Train.Classes.Count);
        stop?.ThrowIfRequested("assembling the classifier");
        var frozen = recipe.Backbone.Preprocess is { } preprocessPath ? PrependPreprocessing(recipe, backbone, preprocessPath) : [];
        var preprocessing = PreprocessingFor(recipe, backbone);
        ClassifierAssembly assembly;
        try
        {
            assembly = ClassifierAssembly.Build(backbone, recipe.Backbone.Cut, data.Train.Classes.Count, recipe.Head.Hidden, recipe.Seed, recipe.Head.Pooling, recipe.Head.Dropout);
        }
        catch (GraphException e)
        {
            // A cut that finds no head, or a model whose shapes do not add up: either way the backbone file is what to look at.
            throw recipe.Error("backbone", $"backbone {recipe.Backbone.Path ?? recipe.Backbone.Architecture}: {e.Message}");
        }
        var plan = TrainableParameters.Resolve(recipe, BackboneBlocks(assembly, frozen), assembly.HeadParameters);
        // A freshly built architecture is initialized already; a pretrained file is re-initialized for from-scratch.
        if (plan.Reinitialized.Count > 0 && recipe.Backbone.Path is not null)
            ParameterInitializer.Reinitialize(assembly.Model.Graph, plan.Reinitialized, recipe.Seed);
        var loss = new LossOptions(recipe.LabelSmoothing, ClassWeights(recipe, data.Train));
        return new RunSetup(recipe, data, preprocessing, assembly, plan, loss);
    }

    /// <summary>BatchNorm layers that train use batch statistics and update their running statistics.</summary>
    public bool TrainsBatchNorm => Recipe.BatchNorm == BatchNormPolicy.Train;

    /// <summary>The forward classifier with the given parameter values as its initializers.</summary>
    public Model ForwardWith(IReadOnlyDictionary<string, Tensor> parameters)
    {
        var model = Assembly.Model.Clone();
        foreach (var (name, value) in parameters) model.Graph.SetInitializer(model.Graph[name], value);
        return model;
    }

    /// <summary>
    /// Every tensor of the classifier that training can change, with its initial value: the parameters (backbone
    /// after the cut, and the new head) and the BatchNorm running statistics.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> InitialParameters() =>
        Parameters.Of(Assembly.Model.Graph).Concat(Assembly.Model.Graph.Initializers.Where(Parameters.IsRunningStatistic))
            .Distinct().ToDictionary(v => v.Name, v => v.Initializer!);

    private static Model Architecture(Recipe recipe, int classes)
    {
        var input = recipe.Input;
        int size = input.Height ?? throw recipe.Error("input.size", "input.size is needed to build backbone.architecture");
        if (input.Width is int width && width != size) throw recipe.Error("input.size", "backbone.architecture builds square inputs: give input.size as [n, n]");
        var options = recipe.Backbone.ArchitectureOptions! with
        {
            Classes = classes,
            InputChannels = input.Channels == ChannelFormat.L ? 1 : 3,
            InputSize = size,
            Seed = recipe.Seed,
        };
        return ArchitectureFactory.Create(recipe.Backbone.Architecture!, options);
    }

    /// <summary>
    /// Merges the recipe's preprocessing graph in front of the backbone, both brought to the working opset first (so files
    /// exported at different old opsets meet); returns its (frozen) initializers.
    /// </summary>
    private static IReadOnlyList<string> PrependPreprocessing(Recipe recipe, Model backbone, string path)
    {
        try
        {
            var preprocess = ModelReader.LoadImageModel(path);
            OpsetUpgrade.Apply(backbone);
            OpsetUpgrade.Apply(preprocess);
            return PreprocessingGraph.Prepend(backbone, preprocess);
        }
        catch (GraphException e)
        {
            throw recipe.Error("backbone.preprocess", $"backbone.preprocess: {e.Message}");
        }
    }

    /// <summary>
    /// The input contract: what the recipe sets, else what the backbone file records (a model exported by this
    /// tool carries its preprocessing), else the backbone's input shape and ImageNet's normalization.
    /// </summary>
    private static PreprocessingSpec PreprocessingFor(Recipe recipe, Model backbone)
    {
        var input = recipe.Input;
        var shape = backbone.Graph.Inputs.Single().Type?.Shape;
        int? Fixed(int axis) => shape is { Count: 4 } && shape[axis].Value is long v ? (int)v : null;
        var recorded = RecordedPreprocessing(recipe, backbone);
        var detected = DetectLayout(Fixed(1), Fixed(3));
        if (detected is { } known && input.Layout is { } stated && stated != known)
            throw recipe.Error("input.layout", $"input.layout: the backbone's input {backbone.Graph.Inputs[0].Type} is {Name(known)}, the recipe says {Name(stated)}");
        var layout = detected ?? input.Layout ?? recorded?.Layout ?? TensorLayout.Nchw;
        var (heightAxis, widthAxis, channelAxis) = layout == TensorLayout.Nhwc ? (1, 2, 3) : (2, 3, 1);
        int height = input.Height ?? recorded?.InputHeight ?? Fixed(heightAxis) ?? throw recipe.Error("input.size", "input.size is needed: the backbone's input size is not fixed");
        int width = input.Width ?? recorded?.InputWidth ?? Fixed(widthAxis) ?? height;
        // ONNX Runtime refuses any other size for a fixed one (only the batch dimension is made symbolic), mid-run.
        if ((Fixed(heightAxis) is int fixedHeight && fixedHeight != height) || (Fixed(widthAxis) is int fixedWidth && fixedWidth != width))
            throw recipe.Error("input.size", $"input.size: the backbone's input {backbone.Graph.Inputs[0].Type} takes {Fixed(heightAxis)?.ToString() ?? "any"}x{Fixed(widthAxis)?.ToString() ?? "any"} images only, not {height}x{width}");
        var channels = input.Channels ?? recorded?.Channels ?? (Fixed(channelAxis) == 1 ? ChannelFormat.L : ChannelFormat.Rgb);
        // Mean and std written in the recipe are on the recipe's range (1 unless it says 255), never on the file's.
        var range = input.Range ?? (input.Mean is null && input.Std is null ? recorded?.Range : null) ?? 1;
        bool sameScale = recorded?.Channels == channels && recorded.Range == range;
        var spec = new PreprocessingSpec
        {
            InputHeight = height,
            InputWidth = width,
            Resize = input.Resize ?? (recorded is not null && recorded.InputHeight == height && recorded.InputWidth == width ? recorded.Resize : input.ResizeFor(height, width)),
            Mean = input.Mean is null && sameScale ? recorded!.Mean : [.. input.MeanFor(channels, range).Select(v => (float)v)],
            Std = input.Std is null && sameScale ? recorded!.Std : [.. input.StdFor(channels, range).Select(v => (float)v)],
            Channels = channels,
            Range = range,
            Layout = layout,
        };
        if (Fixed(channelAxis) is int c && c != spec.ChannelCount)
            throw recipe.Error("input.channels", $"input.channels: the backbone reads {c} channel(s) ({Name(layout)} input {backbone.Graph.Inputs[0].Type}), the recipe gives {spec.ChannelCount}");
        spec.Validate();
        return spec;
    }

    /// <summary>NCHW or NHWC where the input shape says so: one of axes 1 and 3 holds 1 or 3 channels and the other does not.</summary>
    private static TensorLayout? DetectLayout(int? axis1, int? axis3)
    {
        static bool IsChannels(int? size) => size is 1 or 3;
        if (IsChannels(axis1) && !IsChannels(axis3)) return TensorLayout.Nchw;
        if (IsChannels(axis3) && !IsChannels(axis1)) return TensorLayout.Nhwc;
        return null;
    }

    private static string Name(TensorLayout layout) => PreprocessingSpec.LayoutNames.First(n => n.Value == layout).Key;

    private static PreprocessingSpec? RecordedPreprocessing(Recipe recipe, Model backbone)
    {
        var metadata = backbone.MetadataByKey();
        if (!metadata.ContainsKey("input_size")) return null;
        try
        {
            return PreprocessingSpec.FromMetadata(metadata);
        }
        catch (FormatException e)
        {
            throw recipe.Error("backbone.path", $"backbone.path: the model's preprocessing metadata is malformed: {e.Message}");
        }
    }

    private static IReadOnlyList<float>? ClassWeights(Recipe recipe, ImageDataset train) => recipe.ClassWeights.Kind switch
    {
        ClassWeightsKind.Balanced => train.ClassWeights(),
        ClassWeightsKind.Explicit when recipe.ClassWeights.Weights!.Count != train.Classes.Count =>
            throw recipe.Error("class_weights", $"class_weights has {recipe.ClassWeights.Weights.Count} values for {train.Classes.Count} classes"),
        ClassWeightsKind.Explicit => [.. recipe.ClassWeights.Weights!.Select(w => (float)w)],
        _ => null,
    };

    /// <summary>
    /// Backbone parameters in the order the graph first uses them, split into blocks at the cut points; the head's
    /// and the <paramref name="frozen"/> ones (a merged preprocessing graph's) are no backbone block's.
    /// </summary>
    private static IReadOnlyList<IReadOnlyList<string>> BackboneBlocks(ClassifierAssembly assembly, IReadOnlyList<string> frozen)
    {
        var graph = assembly.Model.Graph;
        var head = assembly.HeadParameters.Concat(frozen).ToHashSet();
        var parameters = Parameters.Of(graph).Where(p => !head.Contains(p.Name)).ToHashSet();
        var ordered = new List<string>();
        var starts = new List<int>();
        var cutProducers = Ir.Surgery.CutPoint.Find(graph).Select(p => p.Producer).ToHashSet();
        foreach (var node in graph.TopologicalOrder())
        {
            foreach (var input in node.Inputs)
                if (input is not null && parameters.Remove(input)) ordered.Add(input.Name);
            if (cutProducers.Contains(node)) starts.Add(ordered.Count);
        }
        return ParameterBlocks.AtBoundaries(ordered, starts);
    }
}
