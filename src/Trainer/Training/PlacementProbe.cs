using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Training;

/// <summary>
/// Learns where ONNX Runtime placed a session's nodes from a profile of its first run, then stops profiling, and
/// reports the nodes that did not land on the device's provider (<see cref="NodePlacement"/>).
/// </summary>
internal sealed class PlacementProbe(string graph, string expectedProvider, Action<string> report)
{
    private readonly string _prefix = Path.Combine(Path.GetTempPath(), $"onnx-trainer-placement-{Guid.NewGuid():N}");
    private bool _reported;

    /// <summary>Makes a session profile its runs until <see cref="AfterRun"/> ends it.</summary>
    public void Configure(SessionOptions options)
    {
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = _prefix;
    }

    public bool Reported => _reported;

    /// <summary>Ends the profiling of a session that is dropped before its first run (its profile would stay behind).</summary>
    public static void Abandon(Func<string> endProfiling) => File.Delete(endProfiling());

    /// <summary>After the session's first run: ends its profiling and reports; later calls do nothing.</summary>
    /// <param name="endProfiling">Ends the session's profiling and returns the profile's path.</param>
    public void AfterRun(Func<IEnumerable<string>> endProfiling)
    {
        if (_reported) return;
        _reported = true;
        var placements = new List<NodePlacement>();
        foreach (var path in endProfiling())
        {
            placements.AddRange(NodePlacement.ReadProfile(path));
            File.Delete(path);
        }
        report($"{graph} graph: {NodePlacement.Summarize(placements, expectedProvider)}");
        var elsewhere = placements.Where(p => p.Provider != expectedProvider).ToList();
        if (elsewhere.Count > 0)
            report($"  not on {expectedProvider}: {string.Join(", ", elsewhere.Select(p => $"{p.Node} ({p.OpType}, {p.Provider})"))}");
    }
}
