namespace OnnxTrainer.Recipes;

/// <summary>What BatchNorm layers do during training.</summary>
public enum BatchNormPolicy
{
    /// <summary>BatchNorm runs in inference mode: pretrained running statistics are used and never updated, as Keras advises for fine-tuning.</summary>
    Frozen,

    /// <summary>Batch statistics in training and running statistics updated, as in ordinary training.</summary>
    Train,

    /// <summary>Re-estimate running statistics on the training images before training (domain shift), then use them as frozen.</summary>
    AdaBn,
}
