using OnnxTrainer.Architectures;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
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
    public static RunSetup Prepare(Recipe recipe)
    {
        RecipeFiles.EnsureExist(recipe);
        var data = RunDatasets.Open(recipe.Data, recipe.Seed);
        var backbone = recipe.Backbone.Path is { } path ? ModelReader.Load(path) : Architecture(recipe, data.Train.Classes.Count);
        var preprocessing = PreprocessingFor(recipe, backbone);
        ClassifierAssembly assembly;
        try
        {
            assembly = ClassifierAssembly.Build(backbone, recipe.Backbone.Cut, data.Train.Classes.Count, recipe.Head.Hidden, recipe.Seed, recipe.Head.Pooling, recipe.Head.Dropout);
        }
        catch (GraphException e)
        {
            throw recipe.Error("backbone.cut", $"backbone.cut: {e.Message}");
        }
        var plan = TrainableParameters.Resolve(recipe, BackboneBlocks(assembly), assembly.HeadParameters);
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
        var model = ModelReader.Copy(Assembly.Model, "classifier");
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
    /// The input contract: what the recipe sets, else what the backbone file records (a model exported by this
    /// tool carries its preprocessing), else the backbone's input shape and ImageNet's normalization.
    /// </summary>
    private static PreprocessingSpec PreprocessingFor(Recipe recipe, Model backbone)
    {
        var shape = backbone.Graph.Inputs.Single().Type?.Shape;
        int? Fixed(int axis) => shape is { Count: 4 } && shape[axis].Value is long v ? (int)v : null;
        var recorded = RecordedPreprocessing(recipe, backbone);
        int height = recipe.Input.Height ?? recorded?.InputHeight ?? Fixed(2) ?? throw recipe.Error("input.size", "input.size is needed: the backbone's input size is not fixed");
        int width = recipe.Input.Width ?? recorded?.InputWidth ?? Fixed(3) ?? height;
        var channels = recipe.Input.Channels ?? recorded?.Channels ?? (Fixed(1) == 1 ? ChannelFormat.L : ChannelFormat.Rgb);
        bool sameChannels = recorded?.Channels == channels;
        var spec = new PreprocessingSpec
        {
            InputHeight = height,
            InputWidth = width,
            Resize = recipe.Input.Resize ?? (recorded is not null && recorded.InputHeight == height && recorded.InputWidth == width ? recorded.Resize : recipe.Input.ResizeFor(height, width)),
            Mean = recipe.Input.Mean is null && sameChannels ? recorded!.Mean : [.. recipe.Input.MeanFor(channels).Select(v => (float)v)],
            Std = recipe.Input.Std is null && sameChannels ? recorded!.Std : [.. recipe.Input.StdFor(channels).Select(v => (float)v)],
            Channels = channels,
        };
        if (Fixed(1) is int c && c != spec.ChannelCount)
            throw recipe.Error("input.channels", $"input.channels: the backbone reads {c} channel(s), the recipe gives {spec.ChannelCount}");
        spec.Validate();
        return spec;
    }

    private static PreprocessingSpec? RecordedPreprocessing(Recipe recipe, Model backbone)
    {
        var metadata = backbone.Metadata.GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);
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

    /// <summary>Backbone parameters in the order the graph first uses them, split into blocks at the cut points.</summary>
    private static IReadOnlyList<IReadOnlyList<string>> BackboneBlocks(ClassifierAssembly assembly)
    {
        var graph = assembly.Model.Graph;
        var head = assembly.HeadParameters.ToHashSet();
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
