using System.Text.RegularExpressions;
using Xunit;

namespace OnnxTrainer.Tests;

/// <summary>The dependency list of docs/architecture.md is the code's: every arrow used is listed, every listed arrow is used, no cycles.</summary>
public partial class ArchitectureTests
{
    private static readonly string[] SourceRoots = ["src/Trainer", "src/Inference"];

    [Fact]
    public void Dependencies_InTheCode_AreExactlyTheDocumentedList()
    {
        var documented = DocumentedArrows();
        var used = UsedArrows();

        var undocumented = used.Where(kv => !documented.Contains(kv.Key)).Select(kv => $"{kv.Key.From} -> {kv.Key.To} (in {kv.Value})").ToList();
        var unused = documented.Where(arrow => !used.ContainsKey(arrow)).Select(arrow => $"{arrow.From} -> {arrow.To}").ToList();

        Assert.True(undocumented.Count == 0, "arrows the code uses but docs/architecture.md does not allow:\n" + string.Join("\n", undocumented));
        Assert.True(unused.Count == 0, "arrows docs/architecture.md lists but the code does not use (remove them):\n" + string.Join("\n", unused));
    }

    [Fact]
    public void Dependencies_Documented_HaveNoCycle()
    {
        var arrows = DocumentedArrows();
        var parts = arrows.SelectMany(a => new[] { a.From, a.To }).Distinct().ToList();
        var state = parts.ToDictionary(p => p, _ => 0); // 0 unvisited, 1 on the path, 2 done
        string? Cycle(string part, List<string> path)
        {
            if (state[part] == 1) return string.Join(" -> ", path.SkipWhile(p => p != part).Append(part));
            if (state[part] == 2) return null;
            state[part] = 1;
            path.Add(part);
            foreach (var next in arrows.Where(a => a.From == part).Select(a => a.To))
                if (Cycle(next, path) is { } found) return found;
            path.RemoveAt(path.Count - 1);
            state[part] = 2;
            return null;
        }

        Assert.All(parts, part => Assert.Null(Cycle(part, [])));
    }

    /// <summary>The lines <c>- Part -> Part, Part</c> under "Allowed dependencies".</summary>
    private static HashSet<(string From, string To)> DocumentedArrows()
    {
        var text = File.ReadAllText(RepositoryPaths.Of("docs/architecture.md"));
        var section = text[text.IndexOf("## Allowed dependencies", StringComparison.Ordinal)..];
        var arrows = new HashSet<(string, string)>();
        foreach (Match line in ArrowLine().Matches(section))
            foreach (var to in line.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                arrows.Add((line.Groups[1].Value, to));
        Assert.NotEmpty(arrows);
        return arrows;
    }

    /// <summary>Each arrow between parts that some source file uses, with the first such file.</summary>
    private static Dictionary<(string From, string To), string> UsedArrows()
    {
        var files = SourceRoots.SelectMany(root => Directory.EnumerateFiles(RepositoryPaths.Of(root), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var code = files.ToDictionary(f => f, f => CodeOnly(File.ReadAllText(f)));
        // Types each part declares, to tell "Artifacts.OptimizerOptions" (a type of a part) from "Data.Span" (a property).
        var declared = files.GroupBy(PartOf).ToDictionary(g => g.Key,
            g => g.SelectMany(f => TypeDeclaration().Matches(code[f]).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal));
        var used = new Dictionary<(string, string), string>();
        foreach (var file in files)
        {
            string from = PartOf(file);
            var targets = Namespace().Matches(code[file]).Select(m => m.Groups[2].Success ? "Onnx.Protos" : m.Groups[1].Value)
                .Concat(RelativeName().Matches(code[file]).Where(m => declared.GetValueOrDefault(m.Groups[1].Value)?.Contains(m.Groups[2].Value) == true)
                    .Select(m => m.Groups[1].Value));
            foreach (var to in targets.Where(t => t != from && (declared.ContainsKey(t) || t == "Onnx.Protos")))
                used.TryAdd((from, to), Path.GetRelativePath(RepositoryPaths.Of("."), file));
        }
        return used;
    }

    /// <summary>The part a file belongs to: Inference, or the folder under src/Trainer (its top-level files are the CLI's).</summary>
    private static string PartOf(string file)
    {
        var relative = Path.GetRelativePath(RepositoryPaths.Of("src"), file).Split(Path.DirectorySeparatorChar);
        if (relative[0] == "Inference") return "Inference";
        return relative.Length > 2 ? relative[1] : "Cli";
    }

    /// <summary>Source without comments and string literals, so that prose naming a part is not a dependency.</summary>
    private static string CodeOnly(string source) => Comment().Replace(StringLiteral().Replace(source, "\"\""), "");

    [GeneratedRegex(@"^- (\S+) ->(.*)$", RegexOptions.Multiline)]
    private static partial Regex ArrowLine();

    [GeneratedRegex(@"\bOnnxTrainer\.(\w+)(\.Protos\b)?")]
    private static partial Regex Namespace();

    [GeneratedRegex(@"(?<![\.\w])(\w+)\.([A-Z]\w*)")]
    private static partial Regex RelativeName();

    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+(\w+)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""")]
    private static partial Regex StringLiteral();
}
