namespace OnnxTrainer.Recipes;

/// <summary>
/// Where a recipe value came from: a line and column (1-based) of the recipe file, or a <c>--set</c>
/// override, which has no position in the file.
/// </summary>
public sealed record RecipeLocation(string File, int Line, int Column, string? Override = null)
{
    public override string ToString() => Override is null ? $"{File}:{Line}:{Column}" : $"{File}: --set {Override}";
}
