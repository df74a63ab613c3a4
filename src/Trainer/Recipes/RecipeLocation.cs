namespace OnnxTrainer.Recipes;

/// <summary>
/// Where a recipe value came from: a line and column (1-based) of the recipe file, the whole file (line 0, for what
/// concerns no one value), or a <c>--set</c> override, which has no position in the file.
/// </summary>
public sealed record RecipeLocation(string File, int Line, int Column, string? Override = null)
{
    public override string ToString() => Override is not null ? $"{File}: --set {Override}" : Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
