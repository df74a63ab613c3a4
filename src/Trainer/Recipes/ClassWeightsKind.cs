namespace OnnxTrainer.Recipes;

public enum ClassWeightsKind
{
    None,

    /// <summary>Inverse class frequency, as scikit-learn's "balanced".</summary>
    Balanced,

    Explicit,
}
