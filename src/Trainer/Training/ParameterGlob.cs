using System.Text.RegularExpressions;

namespace OnnxTrainer.Training;

/// <summary>Glob patterns over parameter names: <c>*</c> is any run of characters (dots included), <c>?</c> one character.</summary>
internal static class ParameterGlob
{
    public static bool IsMatch(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);
}
