using OnnxTrainer.Artifacts;
using OnnxTrainer.Export;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;

namespace OnnxTrainer.Tests.Export;

/// <summary>
/// A stand-in for a finished run: a generated backbone with a new head, and "trained" values for every
/// parameter (the initial ones, perturbed from a seed) so that an exporter that kept the old weights fails.
/// </summary>
internal sealed record TrainedClassifier(Model Forward, IReadOnlyDictionary<string, Tensor> Parameters, ClassifierExport Export)
{
    /// <summary>Mean and std that are not ImageNet's, so a reader that ignores the metadata gives other answers.</summary>
    public static readonly PreprocessingSpec Preprocessing = new()
    {
        InputHeight = 64,
        InputWidth = 64,
        Resize = 72,
        Mean = [0.5f, 0.4f, 0.3f],
        Std = [0.25f, 0.2f, 0.3f],
    };

    public static TrainedClassifier Create(string backbone = "resnet_small", IReadOnlyList<string>? labels = null, int seed = 1)
    {
        labels ??= ["cat", "dog", "fish", "bird"];
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath(backbone)), BackboneCut.Head, labels.Count, hidden: [], seed);
        var random = new Random(seed);
        var parameters = new Dictionary<string, Tensor>();
        foreach (var value in OnnxTrainer.Ir.Parameters.Of(assembly.Model.Graph))
        {
            var tensor = value.Initializer!;
            var values = tensor.ToFloats();
            for (int i = 0; i < values.Length; i++) values[i] = values[i] * (float)(1 + 0.2 * (random.NextDouble() - 0.5)) + (float)(0.01 * (random.NextDouble() - 0.5));
            parameters[value.Name] = Tensor.FromFloats(tensor.Dims, values);
        }
        var export = new ClassifierExport(labels, Preprocessing, "name: test\nstrategy: fine-tune\n", """{"val_accuracy":0.5}""");
        return new TrainedClassifier(assembly.Model, parameters, export);
    }

    public Model Build() => ClassifierExporter.Build(Forward, Parameters, Export);

    public static double[] RandomImages(int batch, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, batch * 3 * 64 * 64).Select(_ => random.NextDouble() * 4 - 2).ToArray();
    }
}
