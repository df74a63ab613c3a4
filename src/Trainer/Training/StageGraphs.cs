using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>
/// The graphs of one training stage. <see cref="Training"/>, <see cref="Eval"/> and <see cref="Optimizer"/> are
/// the contract artifacts (image input). The loop runs <see cref="LoopTraining"/>/<see cref="LoopEval"/>: the same
/// graphs over the trainable suffix only, fed by <see cref="Prefix"/> (run forward only, cacheable) when the
/// frozen part of the network can be split off.
/// </summary>
public sealed record StageGraphs(
    IReadOnlyList<string> Trainable,
    Model Training,
    Model Eval,
    Model Optimizer,
    FrozenPrefix? Prefix,
    Model LoopTraining,
    Model LoopEval)
{
    public const string TrainingFile = "training_model.onnx";
    public const string EvalFile = "eval_model.onnx";
    public const string OptimizerFile = "optimizer_model.onnx";

    /// <param name="forward">The classifier with the current values of every parameter as initializers.</param>
    public static StageGraphs Build(Model forward, StagePlan stage, OptimizerSpec optimizer, LossOptions loss)
    {
        var trainable = stage.Trainable;
        var training = TrainingGraph.BuildTraining(forward, trainable, loss);
        var eval = TrainingGraph.BuildEval(forward, trainable, loss);
        var shapes = trainable.Select(name => (name, forward.Graph[name].Initializer!.Dims)).ToList();
        var options = OptimizerOptions(optimizer) with
        {
            LrScale = [.. trainable.Select(name => (float)stage.LearningRateScales.GetValueOrDefault(name, 1.0))],
            DecayWeights = Artifacts.OptimizerOptions.DecayByConvention(shapes),
        };
        var optimizerModel = OptimizerGraph.Build(shapes, options);

        var prefix = FrozenPrefix.Split(forward, trainable);
        return prefix is null
            ? new StageGraphs(trainable, training, eval, optimizerModel, null, training, eval)
            : new StageGraphs(trainable, training, eval, optimizerModel, prefix,
                TrainingGraph.BuildTraining(prefix.Suffix, trainable, loss), TrainingGraph.BuildEval(prefix.Suffix, trainable, loss));
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
