using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// Reads an ONNX Runtime profile (chrome-trace JSON) and sums kernel time per step by op type, by phase
/// (forward / loss / backward) and, for backward nodes, by the gradient rule that emitted them. Phases come
/// from node names: rules name their nodes "&lt;forward node&gt;_grad/&lt;Op&gt;", the loss "loss/&lt;Op&gt;".
/// </summary>
internal sealed partial class ProfileSummary
{
    public required int Steps { get; init; }
    public required double TotalMs { get; init; }
    public required IReadOnlyList<(string Key, double Ms)> ByOpType { get; init; }
    public required IReadOnlyList<(string Key, double Ms)> ByPhase { get; init; }
    public required IReadOnlyList<(string Key, double Ms)> ByRule { get; init; }
    public required IReadOnlyList<(string Key, double Ms)> ByNode { get; init; }

    /// <summary>
    /// Sums the kernel times of every model run after the first <paramref name="warmup"/> runs. Skip as many as the timed
    /// steps do: the second run still grows ONNX Runtime's arena for the planned memory block, and the first touch of
    /// those pages doubled the kernel times of the large memory-bound nodes (MobileNetV2's depthwise convs at 56-112 px).
    /// <paramref name="ruleLabels"/> maps forward node names to a finer label for their gradient rule (e.g. "Conv depthwise 3x3/s2").
    /// </summary>
    public static ProfileSummary Read(string path, IReadOnlyDictionary<string, string> ruleLabels, int warmup)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var events = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("traceEvents");
        var runs = new List<(long Start, long End)>();
        var kernels = new List<(long Ts, long Dur, string Node, string Op)>();
        foreach (var e in events.EnumerateArray())
        {
            if (!e.TryGetProperty("name", out var nameProp) || !e.TryGetProperty("dur", out var durProp)) continue;
            var name = nameProp.GetString() ?? "";
            long ts = e.GetProperty("ts").GetInt64(), dur = durProp.GetInt64();
            var cat = e.TryGetProperty("cat", out var c) ? c.GetString() : null;
            if (cat == "Session" && name == "model_run") runs.Add((ts, ts + dur));
            else if (cat == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal))
            {
                var op = e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var o) ? o.GetString() ?? "?" : "?";
                kernels.Add((ts, dur, name[..^"_kernel_time".Length], op));
            }
        }
        runs.Sort();
        var counted = runs.Skip(warmup).ToList();
        if (counted.Count == 0) throw new InvalidOperationException($"{path}: no model run profiled after the {warmup} warm-up runs");

        var byOp = new Dictionary<string, double>();
        var byPhase = new Dictionary<string, double>();
        var byRule = new Dictionary<string, double>();
        var byNode = new Dictionary<string, double>();
        double total = 0;
        foreach (var k in kernels)
        {
            if (!counted.Any(r => k.Ts >= r.Start && k.Ts <= r.End)) continue;
            double ms = k.Dur / 1000.0 / counted.Count;
            total += ms;
            var (phase, rule) = Classify(k.Node, ruleLabels);
            Add(byOp, $"{phase} {k.Op}", ms);
            Add(byPhase, phase, ms);
            if (rule is not null) Add(byRule, rule, ms);
            Add(byNode, $"{k.Op} {k.Node}", ms);
        }
        return new ProfileSummary
        {
            Steps = counted.Count,
            TotalMs = total,
            ByOpType = Sorted(byOp),
            ByPhase = Sorted(byPhase),
            ByRule = Sorted(byRule),
            ByNode = Sorted(byNode),
        };
    }

    public string Format(int top)
    {
        var s = new StringBuilder();
        s.AppendLine(Inv($"  kernel time per step {TotalMs:F1} ms (mean of {Steps} profiled steps)"));
        s.AppendLine("  by phase:        " + string.Join(", ", ByPhase.Select(p => Inv($"{p.Key} {p.Ms:F1} ms ({Share(p.Ms)})"))));
        s.AppendLine("  top op types (phase op: ms/step, share):");
        foreach (var (key, ms) in ByOpType.Take(top)) s.AppendLine(Inv($"    {key,-36} {ms,8:F1} {Share(ms),6}"));
        s.AppendLine("  backward by gradient rule (forward op differentiated; Conv by kind):");
        foreach (var (key, ms) in ByRule.Take(top)) s.AppendLine(Inv($"    {key,-36} {ms,8:F1} {Share(ms),6}"));
        s.AppendLine("  top nodes:");
        foreach (var (key, ms) in ByNode.Take(top)) s.AppendLine(Inv($"    {Truncate(key, 90),-90} {ms,8:F2}"));
        return s.ToString();
    }

    private string Share(double ms) => TotalMs > 0 ? (ms / TotalMs).ToString("P0", CultureInfo.InvariantCulture) : "-";

    /// <summary>Phase of a node and, for backward nodes, the op type of the forward node it differentiates.</summary>
    private static (string Phase, string? Rule) Classify(string node, IReadOnlyDictionary<string, string> ruleLabels)
    {
        int grad = node.LastIndexOf("_grad/", StringComparison.Ordinal);
        if (grad < 0) return node.StartsWith("loss/", StringComparison.Ordinal) ? ("loss", null) : ("fwd", null);
        var owner = node[..grad];
        if (ruleLabels.TryGetValue(owner, out var label)) return ("bwd", label);
        var segment = owner[(owner.LastIndexOf('/') + 1)..];
        // Fan-out sums are named after the summed value ("<node>/Relu_output_0_grad/Sum"), rules after their node.
        if (segment.Contains("_output_", StringComparison.Ordinal) || owner.StartsWith("loss", StringComparison.Ordinal) && segment == "loss")
            return ("bwd", "(fan-out sum / seed)");
        var op = LeadingWord().Match(segment);
        return ("bwd", op.Success ? op.Value : segment);
    }

    [GeneratedRegex("^[A-Za-z]+")]
    private static partial Regex LeadingWord();

    private static void Add(Dictionary<string, double> d, string key, double ms) => d[key] = d.GetValueOrDefault(key) + ms;

    private static List<(string, double)> Sorted(Dictionary<string, double> d) => [.. d.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, kv.Value))];

    private static string Truncate(string s, int n) => s.Length <= n ? s : "..." + s[^(n - 3)..];

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
