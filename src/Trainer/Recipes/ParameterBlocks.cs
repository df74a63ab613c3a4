namespace OnnxTrainer.Recipes;

/// <summary>
/// Groups backbone parameters into the "blocks" that <c>fine_tune_last</c> and <c>unfreeze_last</c> count. The best
/// grouping comes from the graph (the parameters between consecutive cut points); this one, from names alone, is the
/// fallback for exports that keep module names.
/// </summary>
public static class ParameterBlocks
{
    /// <summary>
    /// Consecutive parameters that share their name up to the second-last dot form a block:
    /// <c>layer4.1.conv2.weight</c> belongs to <c>layer4.1</c>; names with fewer than three parts (<c>conv1.weight</c>,
    /// <c>bn1.bias</c>) share the stem block "".
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> ByNamePrefix(IReadOnlyList<string> parameterNames)
    {
        var blocks = new List<List<string>>();
        string? currentPrefix = null;
        foreach (var name in parameterNames)
        {
            var parts = name.Split('.');
            var prefix = parts.Length < 3 ? "" : string.Join('.', parts[..^2]);
            if (prefix != currentPrefix) blocks.Add([]);
            blocks[^1].Add(name);
            currentPrefix = prefix;
        }
        return blocks;
    }
}
