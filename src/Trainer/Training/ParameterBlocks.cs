namespace OnnxTrainer.Training;

/// <summary>
/// Groups backbone parameters into the "blocks" that <c>fine_tune_last</c> and <c>unfreeze_last</c> count. The best
/// grouping comes from the graph (<see cref="AtBoundaries"/>: the parameters between consecutive cut points).
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
}
