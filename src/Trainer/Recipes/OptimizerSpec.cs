using OnnxTrainer.Artifacts;

namespace OnnxTrainer.Recipes;

/// <summary>
/// The update rule. Backbone parameters learn at <see cref="BackboneLrScale"/> times the rate (discriminative
/// learning rates) unless a <see cref="LrScale"/> rule matches them first.
/// </summary>
public sealed record OptimizerSpec(
    OptimizerKind Kind,
    double LearningRate,
    double Momentum,
    bool Nesterov,
    double WeightDecay,
    double Beta1,
    double Beta2,
    double Eps,
    double BackboneLrScale,
    IReadOnlyList<LearningRateScaleRule> LrScale);
