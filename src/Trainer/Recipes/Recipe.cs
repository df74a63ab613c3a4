namespace OnnxTrainer.Recipes;

/// <summary>
/// A validated training recipe, as loaded by <see cref="RecipeLoader"/>: every default applied, every path absolute.
/// Later stages that find a problem the loader could not see (a cut tensor missing from the graph, a pattern matching
/// no parameter) report it with <see cref="Error"/>, so the message still points into the recipe.
/// </summary>
public sealed record Recipe
{
    /// <summary>Run folder name under <c>artifacts/</c>.</summary>
    public required string Name { get; init; }

    public required BackboneSpec Backbone { get; init; }
    public required InputSpec Input { get; init; }
    public required HeadSpec Head { get; init; }
    public required TransferStrategy Strategy { get; init; }

    /// <summary>Glob patterns over backbone parameter names that train, overriding the strategy's choice; null when unset.</summary>
    public IReadOnlyList<string>? Trainable { get; init; }

    /// <summary>With fine-tune: train only the last N backbone blocks (and the head); null trains all.</summary>
    public int? FineTuneLast { get; init; }

    /// <summary>Gradual unfreezing; empty when the recipe trains in one go.</summary>
    public required IReadOnlyList<StageSpec> Stages { get; init; }

    public required DataSpec Data { get; init; }
    public required OptimizerSpec Optimizer { get; init; }
    public required ScheduleSpec Schedule { get; init; }

    /// <summary>Total epochs; with stages, the sum of their epochs.</summary>
    public required int Epochs { get; init; }

    public required int BatchSize { get; init; }
    public required double LabelSmoothing { get; init; }
    public required ClassWeightsSpec ClassWeights { get; init; }
    public EarlyStoppingSpec? EarlyStopping { get; init; }
    public required int Seed { get; init; }
    public required BatchNormPolicy BatchNorm { get; init; }

    /// <summary>The recipe file as it was named when loaded; locations use this name.</summary>
    public required string SourceFile { get; init; }

    /// <summary>The recipe after overrides with keys sorted and comments dropped: what <see cref="Hash"/> covers and what the exported model records.</summary>
    public required string CanonicalYaml { get; init; }

    /// <summary>SHA-256 of <see cref="CanonicalYaml"/>, lowercase hex; a checkpoint remembers it so a resume can tell the recipe changed.</summary>
    public required string Hash { get; init; }

    /// <summary>Location of every key and list item, by dotted path (<c>optimizer.learning_rate</c>, <c>stages.1.epochs</c>).</summary>
    internal IReadOnlyDictionary<string, RecipeLocation> Locations { get; init; } = new Dictionary<string, RecipeLocation>();

    /// <summary>Where the value at a dotted path was written; for a value left at its default, its nearest written parent.</summary>
    public RecipeLocation Locate(string path)
    {
        for (string? p = path; p is not null; p = p.Length == 0 ? null : p.Contains('.') ? p[..p.LastIndexOf('.')] : "")
            if (Locations.TryGetValue(p, out var location)) return location;
        return new RecipeLocation(SourceFile, 1, 1);
    }

    public RecipeException Error(string path, string reason) => new(Locate(path), reason);
}
