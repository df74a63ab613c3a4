using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Artifacts;

/// <summary>The forward classifier of a run: the cut backbone with a new head, and which parameters are the head's.</summary>
public sealed record ClassifierAssembly(Model Model, IReadOnlyList<string> HeadParameters, string FeaturesTensor)
{
    public const string BatchSymbol = "N";

    /// <summary>Copies the backbone, gives its input a symbolic batch, cuts it and appends a seeded new head.</summary>
    public static ClassifierAssembly Build(Model backbone, BackboneCut cut, int classes, IReadOnlyList<int> hidden, int seed,
        HeadPooling pooling = HeadPooling.Average, double dropout = 0)
    {
        var model = ModelReader.Copy(backbone, "backbone");
        var graph = model.Graph;
        if (graph.Inputs.Count != 1)
            throw new GraphException($"a backbone has one image input; this one has {graph.Inputs.Count} ({string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        var input = graph.Inputs[0];
        if (input.Type?.Shape is not { Count: 4 } shape)
            throw new GraphException($"the backbone input '{input.Name}' must be an image batch [N, C, H, W] (got {input.Type})");
        input.Type = input.Type with { Shape = [Dim.Named(BatchSymbol), .. shape.Skip(1)] };
        // Declared intermediate shapes may carry the exporter's fixed batch; inference recomputes them.
        foreach (var value in graph.Values.Where(v => v.Producer is not null)) value.Type = null;

        ShapeFolding.Run(graph, model.OpsetVersion);
        ShapeInference.Run(graph, model.OpsetVersion);
        var features = cut.Apply(graph);
        var head = ClassifierHeadBuilder.Append(graph, model.OpsetVersion, features, classes, hidden, seed, pooling, dropout);
        ShapeInference.Run(graph, model.OpsetVersion);
        model.ProducerName = "onnx-trainer";
        return new ClassifierAssembly(model, head, features.Name);
    }
}
