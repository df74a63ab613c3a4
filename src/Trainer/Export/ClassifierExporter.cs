using System.Text.Json;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Export;

/// <summary>
/// Turns a forward classifier and its trained parameters into the shipped <c>model.onnx</c> (contract):
/// input <c>input</c> [N, C, H, W] (or [N, H, W, C] for an NHWC backbone) with a dynamic batch, outputs <c>logits</c> and <c>probabilities</c>
/// (Softmax over classes), trained weights as initializers, BatchNormalization in inference mode,
/// Dropout bypassed, dead nodes pruned, and the metadata that lets the Inference library load it
/// without configuration.
/// </summary>
public static class ClassifierExporter
{

    /// <summary>The symbolic batch dimension (the same symbol ClassifierAssembly uses; Export does not depend on Artifacts).</summary>

    /// <summary>Softmax over one axis of any rank, and the Softmax-13 semantics that ONNX Runtime's optimizers expect.</summary>
    private const long MinimumOpset = 13;

    public static void Save(Model forward, IReadOnlyDictionary<string, Tensor> parameters, ClassifierExport export, string path) =>
        ModelWriter.Save(Build(forward, parameters, export), path);

    /// <summary>Builds the export on a copy; <paramref name="forward"/> is left unchanged.</summary>
    /// <param name="parameters">Trained values by initializer name; each replaces an initializer of the same shape.</param>
    public static Model Build(Model forward, IReadOnlyDictionary<string, Tensor> parameters, ClassifierExport export)
    {
        var model = forward.Clone();
        if (model.OpsetVersion < MinimumOpset)
            throw new GraphException($"the model uses opset {model.OpsetVersion}; export needs opset {MinimumOpset} or newer");
        var graph = model.Graph;
        if (graph.Inputs.Count != 1) throw new GraphException($"a classifier has one image input; this one has {graph.Inputs.Count}");
        if (graph.Outputs.Count == 0) throw new GraphException("the model has no output");

        ReplaceParameters(graph, parameters);
        int bnChanged = BatchNormToInference(graph);
        int dropoutsRemoved = BypassDropout(graph);
        var logits = graph.Outputs[0];
        graph.Outputs.Clear();
        graph.Outputs.Add(logits);
        graph.RemoveDeadNodes();

        var input = graph.Inputs[0];
        if (input.Type?.Shape is not { Count: 4 } shape)
            throw new GraphException($"the classifier input '{input.Name}' must be an image batch of rank 4 (got {input.Type})");
        CheckInputAgrees(input, shape, export.Preprocessing);
        input.Type = input.Type with { Shape = [Dim.Named(ClassifierContract.BatchDimension), .. shape.Skip(1)] };
        graph.RenameTo(input, ClassifierContract.Input);
        graph.RenameTo(logits, ClassifierContract.Logits);
        graph.FreeName(ClassifierContract.Probabilities);
        var probabilities = graph.CreateValue(ClassifierContract.Probabilities);
        graph.AddNodeWithOutputs("Softmax", [logits], [probabilities], [Attribute.Of("axis", 1L)], name: ClassifierContract.Probabilities);
        graph.Outputs.Add(probabilities);

        // Recompute every intermediate shape from the symbolic batch: declared ones may carry a fixed batch.
        foreach (var value in graph.Values.Where(v => v.Producer is not null)) value.Type = null;
        ShapeFolding.Run(graph, model.OpsetVersion);
        ShapeInference.Run(graph, model.OpsetVersion);
        int classes = logits.Type?.Shape is { Count: 2 } logitsShape && logitsShape[1].Value is long c
            ? (int)c : throw new GraphException($"logits must have shape [N, classes] with a known class count (got {logits.Type})");
        if (export.Labels.Count != classes)
            throw new GraphException($"{export.Labels.Count} labels for a classifier with {classes} outputs");

        model.ProducerName = "onnx-trainer";
        model.DocString = $"Image classifier over {classes} classes exported by onnx-trainer" +
                          (bnChanged + dropoutsRemoved > 0 ? $" ({bnChanged} BatchNormalization set to inference, {dropoutsRemoved} Dropout removed)" : "");
        WriteMetadata(model, export);
        return model;
    }

    /// <summary>The preprocessing written to the metadata must produce tensors this input accepts.</summary>
    private static void CheckInputAgrees(Value input, IReadOnlyList<Dim> shape, PreprocessingSpec spec)
    {
        spec.Validate();
        if (shape.Skip(1).Zip(spec.TensorShape(0).Skip(1)).Any(d => d.First.Value is long known && known != d.Second))
            throw new GraphException($"the input '{input.Name}' is {input.Type}; the preprocessing makes {spec.DescribeShape()}");
    }

    private static void ReplaceParameters(Graph graph, IReadOnlyDictionary<string, Tensor> parameters)
    {
        foreach (var (name, tensor) in parameters)
        {
            if (!graph.TryGetValue(name, out var value) || !value.IsInitializer)
                throw new GraphException($"trained parameter '{name}' is not an initializer of the model");
            var old = value.Initializer!;
            if (old.ElementType != tensor.ElementType || !old.Dims.SequenceEqual(tensor.Dims))
                throw new GraphException($"trained parameter '{name}' is {tensor}; the model's initializer is {old}");
            graph.SetInitializer(value, tensor);
        }
    }

    /// <summary>Training-mode BatchNormalization (batch statistics, extra running-stat outputs) becomes the inference form.</summary>
    private static int BatchNormToInference(Graph graph)
    {
        var training = graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0 && n.Int("training_mode", 0) != 0).ToList();
        foreach (var node in training)
        {
            if (node.Outputs.Skip(1).Any(o => o.Users.Count > 0 || graph.Outputs.Contains(o)))
                throw new GraphException($"{node}: its running-statistic outputs are read by the graph; cannot switch it to inference mode");
            var output = node.Output(0);
            var inputs = node.Inputs.ToList();
            var attributes = node.Attributes.Values.Where(a => a.Name != "training_mode").ToList();
            string name = node.Name;
            graph.RemoveNode(node);
            graph.AddNodeWithOutputs("BatchNormalization", inputs, [output], attributes, name);
        }
        return training.Count;
    }

    /// <summary>Dropout is the identity at inference: its readers read its input instead.</summary>
    private static int BypassDropout(Graph graph)
    {
        var dropouts = graph.Nodes.Where(n => n.OpType == "Dropout" && n.Domain.Length == 0).ToList();
        foreach (var node in dropouts)
        {
            if (node.Outputs.Count > 1 && (node.Output(1).Users.Count > 0 || graph.Outputs.Contains(node.Output(1))))
                throw new GraphException($"{node}: its mask output is read by the graph; cannot remove it");
            graph.ReplaceAllUsesWith(node.Output(0), node.Input(0)!);
            graph.RemoveNode(node);
        }
        return dropouts.Count;
    }

    private static void WriteMetadata(Model model, ClassifierExport export)
    {
        model.SetMetadata(ClassifierMetadata.Labels, ClassifierMetadata.FormatLabels(export.Labels));
        foreach (var (key, value) in export.Preprocessing.ToMetadata()) model.SetMetadata(key, value);
        model.SetMetadata(ClassifierMetadata.Recipe, export.Recipe);
        try
        {
            using var _ = JsonDocument.Parse(export.Metrics);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"metrics must be a JSON document: {e.Message}", nameof(export), e);
        }
        model.SetMetadata(ClassifierMetadata.Metrics, export.Metrics);
    }
}
