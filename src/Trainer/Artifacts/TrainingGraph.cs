using OnnxTrainer.Autodiff;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Turns a forward classifier (one image input, logits output) into the training and eval graphs of the
/// artifact contract: inputs <c>input</c>, <c>labels</c>, then each trainable parameter under its
/// initializer name, then any further inputs of the forward graph (the loop's dropout masks); outputs <c>loss</c>,
/// <c>logits</c> and (training only) <c>&lt;param&gt;_grad</c>.
/// Frozen parameters stay initializers so ONNX Runtime can fold and pre-pack them.
/// </summary>
public static class TrainingGraph
{

    /// <param name="keptOutputs">
    /// Further outputs of the forward graph to keep, after the gradients and in this order (e.g. the batch
    /// statistics that <see cref="BatchNormTraining"/> adds); by default only <c>loss</c> and <c>logits</c> are kept.
    /// </param>
    /// <param name="target">The device the graph is built for (default: <see cref="ArtifactTarget.Cpu"/>).</param>
    public static Model BuildTraining(Model forward, IReadOnlyList<string> trainable, LossOptions loss, IReadOnlyList<string>? keptOutputs = null,
        ArtifactTarget? target = null) =>
        Build(forward, trainable, loss, withGradients: true, keptOutputs ?? [], target ?? ArtifactTarget.Cpu);

    public static Model BuildEval(Model forward, IReadOnlyList<string> trainable, LossOptions loss, ArtifactTarget? target = null) =>
        Build(forward, trainable, loss, withGradients: false, [], target ?? ArtifactTarget.Cpu);

    private static Model Build(Model forward, IReadOnlyList<string> trainable, LossOptions lossOptions, bool withGradients, IReadOnlyList<string> keptOutputs,
        ArtifactTarget target)
    {
        // Work on a copy: callers keep their forward model. The emitted graphs use the working opset's operator forms.
        var model = forward.Clone();
        OpsetUpgrade.Apply(model);
        long opset = model.OpsetVersion;
        var graph = model.Graph;
        ShapeFolding.Run(graph, opset);
        ShapeInference.Run(graph, opset);

        if (graph.Inputs.Count == 0) throw new GraphException("the model has no input");
        if (graph.Outputs.Count == 0) throw new GraphException("the model has no output");
        var input = graph.Inputs[0];
        var further = graph.Inputs.Skip(1).ToList();
        var logits = graph.Outputs[0];
        graph.RenameTo(input, ClassifierContract.Input);
        graph.RenameTo(logits, ClassifierContract.Logits);
        var classes = logits.Type?.Shape is { Count: 2 } shape && shape[1].Value is long c
            ? (int)c : throw new GraphException($"logits '{logits.Name}' must have shape [N, classes] with a known class count (got {logits.Type})");

        var labels = graph.AddInput(TrainingContract.Labels, new TensorType(DataType.Int64, [logits.Type!.Shape![0]]));
        var parameters = new List<Value>(trainable.Count);
        foreach (var name in trainable)
        {
            if (!graph.TryGetValue(name, out var value) || !value.IsInitializer)
                throw new GraphException($"trainable parameter '{name}' is not an initializer of the model");
            if (Parameters.IsRunningStatistic(value))
                throw new GraphException($"'{name}' is a BatchNormalization running statistic; it is never trained by gradient");
            graph.PromoteToInput(value);
            parameters.Add(value);
        }
        if (ConvBatchNormFolding.Apply(graph, opset, parameters.ToHashSet().Contains) > 0)
            ShapeInference.Run(graph, opset); // types of the folded weights and biases
        if (withGradients) ReluMaxPoolSwap.Apply(graph, GradientBuilder.ForwardFromParameters(parameters));

        var kept = keptOutputs.Select(name => graph.Outputs.Skip(1).FirstOrDefault(o => o.Name == name)
            ?? throw new GraphException($"'{name}' is not an output of the forward model, so it cannot be kept")).ToList();

        var builder = new GraphBuilder(graph, opset, TrainingContract.Loss);
        var lossValue = CrossEntropyLoss.Append(builder, logits, labels, classes, lossOptions.LabelSmoothing, lossOptions.ClassWeights);
        var loss = graph.CreateValue(TrainingContract.Loss, lossValue.Type);
        graph.AddNodeWithOutputs("Identity", [lossValue], [loss], name: graph.FreshName(TrainingContract.Loss));
        graph.Outputs.Clear();
        graph.Outputs.Add(loss);
        graph.Outputs.Add(logits);
        if (withGradients) GradientBuilder.Build(graph, opset, loss, parameters, TrainingContract.Gradient, target.Gradients);
        graph.Outputs.AddRange(kept);
        graph.RemoveDeadNodes();
        ShapeInference.Run(graph, opset); // the gradients' shapes, which the stacking reads
        if (target.BatchStacking) ConvBatchStacking.Apply(graph, opset);
        graph.Inputs.RemoveAll(further.Contains);
        graph.Inputs.AddRange(further);
        return model;
    }
}
