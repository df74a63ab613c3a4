namespace OnnxTrainer.Recipes;

/// <summary>The four classic transfer-learning situations (small/large data, similar/different domain).</summary>
public enum TransferStrategy
{
    /// <summary>Freeze the whole backbone, train a new head.</summary>
    FeatureExtraction,

    /// <summary>Cut the backbone at an earlier layer, freeze it, train a new head.</summary>
    Truncate,

    /// <summary>Train the pretrained backbone too (all of it, the last blocks, or in stages).</summary>
    FineTune,

    /// <summary>Re-initialize every parameter and train all.</summary>
    FromScratch,
}
