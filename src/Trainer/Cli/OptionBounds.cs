using System.CommandLine;

namespace OnnxTrainer.Cli;

/// <summary>Ranges of the numeric options: a value outside is a usage error (exit 2) before any file is read.</summary>
internal static class OptionBounds
{
    /// <summary>Most threads or chunks a run may ask for: 4 per core. More only queue for the same cores (100,000 threads exhausted a machine's process table).</summary>
    public static int MaxThreads => 4 * Environment.ProcessorCount;

    /// <summary>Rejects a value outside [<paramref name="min"/>, <paramref name="max"/>] with "OPTION must be MIN (MEANING) to MAX (got VALUE)".</summary>
    public static T Within<T>(this T option, int min, string minMeaning, int max, string maxMeaning) where T : Option<int>
    {
        option.Validators.Add(result =>
        {
            int value = result.GetValue(option);
            if (value < min || value > max)
                result.AddError($"{option.Name} must be {min}{Meaning(minMeaning)} to {max}{Meaning(maxMeaning)} (got {value})");
        });
        return option;
    }

    private static string Meaning(string meaning) => meaning.Length == 0 ? "" : $" ({meaning})";
}
