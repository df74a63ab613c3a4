using OnnxTrainer.Inference;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// The forward classifier of a run: the cut backbone with a new head, and which parameters are the head's.
/// <see cref="Notes"/> are one-line remarks for the user about what was done to the backbone file.
/// </summary>
public sealed record ClassifierAssembly(Model Model, IReadOnlyList<string> HeadParameters, string FeaturesTensor, IReadOnlyList<string> Notes)
{

    /// <summary>
    /// Copies the backbone, brings it to the working opset, unties the initializers its exporter merged, gives its input
    /// a symbolic batch, cuts it and appends a seeded new head.
    /// </summary>
    public static ClassifierAssembly Build(Model backbone, BackboneCut cut, int classes, IReadOnlyList<int> hidden, int seed,
        HeadPooling pooling = HeadPooling.Average, double dropout = 0)
    {
        var model = backbone.Clone();
        OpsetUpgrade.Apply(model);
        var graph = model.Graph;
        if (graph.Inputs.Count != 1)
            throw new GraphException($"a backbone has one image input; this one has {graph.Inputs.Count} ({string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        var input = graph.Inputs[0];
        if (input.Type?.Shape is not { Count: 4 })
            throw new GraphException($"the backbone input '{input.Name}' must be an image batch [N, C, H, W] (got {input.Type})");
        TiedInitializers.Untie(graph);
        var (fixedBatch, rewritten) = SymbolicBatch.Apply(graph, model.OpsetVersion, input, ClassifierContract.BatchDimension);

        ShapeFolding.Run(graph, model.OpsetVersion);
        ShapeInference.Run(graph, model.OpsetVersion);
        var (features, note) = cut.Apply(graph);
        var notes = new List<string>();
        if (note is not null) notes.Add(note);
        if (fixedBatch is not null)
        {
            SymbolicBatch.Verify(graph, ClassifierContract.BatchDimension);
            notes.Add($"the backbone fixes its batch at {fixedBatch}; it is made symbolic" +
                (rewritten.Count > 0 ? $" ({rewritten.Count} Reshape target(s) that held it now copy it)" : ""));
        }
        var head = ClassifierHeadBuilder.Append(graph, model.OpsetVersion, features, classes, hidden, seed, pooling, dropout);
        ShapeInference.Run(graph, model.OpsetVersion);
        model.ProducerName = "onnx-trainer";
        return new ClassifierAssembly(model, head, features.Name, notes);
    }
}
