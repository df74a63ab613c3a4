using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>
/// The graphs of one training stage. <see cref="Training"/>, <see cref="Eval"/> and <see cref="Optimizer"/> are
/// the contract artifacts (image input). The loop runs <see cref="LoopTraining"/>/<see cref="LoopEval"/>: the same
/// graphs over the trainable suffix only, fed by <see cref="Prefix"/> (run forward only, cacheable) when the
/// frozen part of the network can be split off. With head dropout the artifact samples its masks in the graph while
/// the loop graphs read them as the inputs <see cref="DropoutMasks"/> (see <see cref="HeadDropout"/>).
/// </summary>
public sealed record StageGraphs(
    IReadOnlyList<string> Trainable,
    IReadOnlyList<BatchStatistics> BatchStatistics,
    Model Training,
    Model Eval,
    Model Optimizer,
    FrozenPrefix? Prefix,
    Model LoopTraining,
    Model LoopEval,
    IReadOnlyList<DropoutMask> DropoutMasks)
{
    /// <summary>The trainable layers' output positions per image (<see cref="ChunkPolicy.PositionsPerImage"/>).</summary>
    public double PositionsPerImage { get; init; }

    public const string TrainingFile = "training_model.onnx";
    public const string EvalFile = "eval_model.onnx";
    public const string OptimizerFile = "optimizer_model.onnx";

    /// <param name="forward">The classifier with the current values of every parameter as initializers.</param>
    /// <param name="trainBatchNorm">
    /// BatchNorm layers whose scale trains use batch statistics in the training graph (outputs
    /// <see cref="BatchStatistics"/> for the running update); the eval graphs keep the running statistics.
    /// </param>
    /// <param name="seed">Seeds the artifact's in-graph dropout sampling.</param>
    /// <param name="target">The device the graphs are built for.</param>
    public static StageGraphs Build(Model forward, StagePlan stage, OptimizerSpec optimizer, LossOptions loss, bool trainBatchNorm, int seed, ArtifactTarget target)
    {
        var trainable = stage.Trainable;
        var (trainingForward, statistics) = TrainingForward(forward, trainable, trainBatchNorm);
        var kept = statistics.SelectMany(s => new[] { s.BatchMean, s.BatchVariance }).ToList();
        var training = TrainingGraph.BuildTraining(HeadDropout.Sampled(trainingForward, seed), trainable, loss, kept, target);
        var eval = TrainingGraph.BuildEval(forward, trainable, loss, target);
        var shapes = trainable.Select(name => (name, forward.Graph[name].Initializer!.Dims)).ToList();
        var options = OptimizerOptions(optimizer) with
        {
            LrScale = [.. trainable.Select(name => (float)stage.LearningRateScales.GetValueOrDefault(name, 1.0))],
            DecayWeights = Artifacts.OptimizerOptions.DecayByConvention(shapes),
        };
        var optimizerModel = OptimizerGraph.Build(shapes, options);

        var (loopForward, masks) = HeadDropout.Masked(trainingForward);
        double positions = ChunkPolicy.PositionsPerImage(loopForward.Graph, trainable);
        var prefix = FrozenPrefix.Split(loopForward, trainable);
        var evalSuffix = prefix is null ? forward : FrozenPrefix.Split(forward, trainable)!.Suffix;
        var loopEval = prefix is null && statistics.Count == 0 ? eval
            : TrainingGraph.BuildEval(WithRunningStatisticsFed(evalSuffix, statistics), trainable, loss, target);
        if (prefix is null)
        {
            var loopTraining = masks.Count == 0 ? training : TrainingGraph.BuildTraining(loopForward, trainable, loss, kept, target);
            return new StageGraphs(trainable, statistics, training, eval, optimizerModel, null, loopTraining, loopEval, masks) { PositionsPerImage = positions };
        }
        return new StageGraphs(trainable, statistics, training, eval, optimizerModel, prefix,
            TrainingGraph.BuildTraining(prefix.Suffix, trainable, loss, kept, target), loopEval, masks) { PositionsPerImage = positions };
    }

    /// <summary>
    /// The running statistics that training updates become inputs of the loop's eval graph (after the image input), so
    /// that one graph serves every epoch: the loop feeds their current values (<see cref="RunningStatisticNames"/>).
    /// </summary>
    private static Model WithRunningStatisticsFed(Model forward, IReadOnlyList<BatchStatistics> statistics)
    {
        if (statistics.Count == 0) return forward;
        var copy = forward.Clone();
        foreach (var name in RunningStatisticNames(statistics)) copy.Graph.PromoteToInput(copy.Graph[name]);
        return copy;
    }

    /// <summary>The running mean and variance of each BatchNormalization that trains, in the loop eval graph's input order.</summary>
    public static IReadOnlyList<string> RunningStatisticNames(IReadOnlyList<BatchStatistics> statistics) =>
        [.. statistics.SelectMany(s => new[] { s.RunningMean, s.RunningVariance })];

    private static (Model Forward, IReadOnlyList<BatchStatistics> Statistics) TrainingForward(Model forward, IReadOnlyList<string> trainable, bool trainBatchNorm)
    {
        if (!trainBatchNorm) return (forward, []);
        var copy = forward.Clone();
        var names = trainable.ToHashSet();
        var statistics = BatchNormTraining.Apply(copy.Graph, copy.OpsetVersion, node => node.Input(1) is { } scale && names.Contains(scale.Name));
        return (copy, statistics);
    }

    /// <summary>Writes the contract artifacts (training, eval and optimizer graphs) into a folder.</summary>
    public void Write(string directory)
    {
        ModelWriter.Save(Training, Path.Combine(directory, TrainingFile));
        ModelWriter.Save(Eval, Path.Combine(directory, EvalFile));
        ModelWriter.Save(Optimizer, Path.Combine(directory, OptimizerFile));
    }

    private static OptimizerOptions OptimizerOptions(OptimizerSpec spec) => spec.Kind switch
    {
        OptimizerKind.Sgd => Artifacts.OptimizerOptions.Sgd(spec.Momentum, spec.Nesterov, spec.WeightDecay),
        _ => Artifacts.OptimizerOptions.AdamW(spec.WeightDecay, spec.Beta1, spec.Beta2, spec.Eps),
    };
}
