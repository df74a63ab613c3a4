namespace OnnxTrainer.Recipes;

/// <summary>Training data, validation data (a separate source, a stratified split, or none) and the decoded-image cache budget.</summary>
public sealed record DataSpec(DataSourceSpec Train, DataSourceSpec? Val, double? ValSplit, AugmentSpec Augment, int CacheMb)
{
    public bool HasValidation => Val is not null || ValSplit is not null;
}
