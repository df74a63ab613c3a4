namespace OnnxTrainer.Recipes;

/// <summary>
/// Groups backbone parameters into the "blocks" that <c>fine_tune_last</c> and <c>unfreeze_last</c> count. The best
/// grouping comes from the graph (<see cref="AtBoundaries"/>: the parameters between consecutive cut points);
/// <see cref="ByNamePrefix"/>, from names alone, is the fallback for exports that keep module names.
/// </summary>
public static class ParameterBlocks
{
    /// <summary>
    /// Splits parameters (in graph order) into blocks starting at the given indices, typically the count of
    /// parameters used before each cut point. Empty blocks (two cut points with no parameter between) are dropped.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> AtBoundaries(IReadOnlyList<string> parameterNames, IEnumerable<int> blockStarts)
    {
        var starts = blockStarts.Where(i => i > 0 && i < parameterNames.Count).Append(parameterNames.Count).Distinct().Order().ToList();
        var blocks = new List<IReadOnlyList<string>>();
        int begin = 0;
        foreach (var end in starts)
        {
            if (end > begin) blocks.Add(parameterNames.Skip(begin).Take(end - begin).ToList());
            begin = end;
        }
        return blocks;
    }

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
