namespace OnnxTrainer.Recipes;

/// <summary>Per-class loss weights; <see cref="Weights"/> is set only for <see cref="ClassWeightsKind.Explicit"/>, in label order.</summary>
public sealed record ClassWeightsSpec(ClassWeightsKind Kind, IReadOnlyList<double>? Weights = null)
{
    public static ClassWeightsSpec None { get; } = new(ClassWeightsKind.None);
}
