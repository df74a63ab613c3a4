using System.Text.Json;

namespace OnnxTrainer.Training;

/// <summary>
/// The execution provider ONNX Runtime ran a node on, as its profile records it ("provider" of each node's kernel-time
/// event). A GPU run must not fall back to the CPU unnoticed: ONNX Runtime places shape computations and operators the
/// CUDA provider lacks on the CPU without a word, and each such node costs copies between the devices.
/// </summary>
public sealed record NodePlacement(string Node, string OpType, string Provider)
{
    private const string KernelSuffix = "_kernel_time";

    /// <summary>The nodes of a profile (chrome-trace JSON from a session with profiling enabled), once each, in run order.</summary>
    public static IReadOnlyList<NodePlacement> ReadProfile(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var events = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement : document.RootElement.GetProperty("traceEvents");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var placements = new List<NodePlacement>();
        foreach (var e in events.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node") continue;
            var name = e.GetProperty("name").GetString() ?? "";
            if (!name.EndsWith(KernelSuffix, StringComparison.Ordinal) || !e.TryGetProperty("args", out var args)) continue;
            var node = name[..^KernelSuffix.Length];
            if (!seen.Add(node)) continue;
            placements.Add(new NodePlacement(node, Text(args, "op_name"), Text(args, "provider")));
        }
        return placements;
    }

    /// <summary>One line: how many nodes ran on the expected provider, and the op types of those that did not.</summary>
    public static string Summarize(IReadOnlyList<NodePlacement> placements, string expectedProvider)
    {
        var elsewhere = placements.Where(p => p.Provider != expectedProvider).ToList();
        if (elsewhere.Count == 0) return $"all {placements.Count} nodes on {expectedProvider}";
        var byProvider = elsewhere.GroupBy(p => p.Provider).Select(g =>
            $"{g.Count()} on {g.Key} ({string.Join(", ", g.GroupBy(p => p.OpType).OrderByDescending(o => o.Count()).Select(o => $"{o.Key} {o.Count()}"))})");
        return $"{placements.Count - elsewhere.Count} of {placements.Count} nodes on {expectedProvider}, {string.Join("; ", byProvider)}";
    }

    private static string Text(JsonElement args, string key) => args.TryGetProperty(key, out var value) ? value.GetString() ?? "?" : "?";
}
