namespace OnnxTrainer.Recipes;

/// <summary>
/// One labelled image set. Paths are absolute, resolved against the recipe's folder. <see cref="ClassSubset"/>
/// keeps only those folder or CSV classes; for IDX, <see cref="LabelSubset"/> keeps only those label values and
/// <see cref="ClassNames"/> names them (in the subset's order, or for every label value when there is no subset).
/// </summary>
public sealed record DataSourceSpec(
    DataSourceKind Kind,
    string? Path,
    string? Images,
    string? Labels,
    IReadOnlyList<string>? ClassSubset,
    IReadOnlyList<int>? LabelSubset,
    IReadOnlyList<string>? ClassNames);
