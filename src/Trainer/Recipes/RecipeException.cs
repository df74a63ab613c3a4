namespace OnnxTrainer.Recipes;

/// <summary>A recipe that cannot be run as written; the message starts with the file, line and column (or the override).</summary>
public sealed class RecipeException(RecipeLocation location, string reason) : Exception($"{location}: {reason}")
{
    public RecipeLocation Location { get; } = location;
    public string File => Location.File;
    public int Line => Location.Line;
    public int Column => Location.Column;

    /// <summary>The message without the location, e.g. <c>optimizer.learning_rate must be &gt; 0 (got -0.1)</c>.</summary>
    public string Reason { get; } = reason;
}
