namespace OnnxTrainer.Recipes;

/// <summary>"Did you mean" for misspelt keys and names: the closest candidate by edit distance, if close enough to be a typo.</summary>
internal static class KeySuggestion
{
    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int distance = Distance(given.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = (candidate, distance);
        }
        if (bestDistance <= Math.Max(2, given.Length / 3) && bestDistance < given.Length) return best;
        // A shortened key ("unfreeze" for "unfreeze_last") is far in edit distance but plainly meant.
        var extended = candidates.Where(c => given.Length >= 3 && c.StartsWith(given, StringComparison.OrdinalIgnoreCase)).ToList();
        return extended.Count == 1 ? extended[0] : null;
    }

    /// <summary>A phrase to append to an error: "; did you mean 'x'?" or the full list of what is allowed.</summary>
    public static string Hint(string given, IReadOnlyCollection<string> candidates) =>
        Closest(given, candidates) is { } match ? $"; did you mean '{match}'?" : $" (expected one of: {string.Join(", ", candidates)})";

    /// <summary>Levenshtein distance with adjacent transpositions (optimal string alignment).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
