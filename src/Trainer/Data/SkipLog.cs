using System.Collections.Concurrent;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// Files found unusable, shared by a dataset and the datasets derived from it; written during the
/// scan and, for damage that only decoding reveals, by loader threads.
/// </summary>
internal sealed class SkipLog
{
    private readonly ConcurrentDictionary<string, SkippedFile> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public void Add(string path, ImageDecodeException error) =>
        _entries.TryAdd(path, new SkippedFile(path, error.Failure, error.Message));

    public void Add(SkippedFile entry) => _entries.TryAdd(entry.Path, entry);

    public bool Contains(string path) => _entries.ContainsKey(path);

    public IReadOnlyList<SkippedFile> Snapshot() =>
        _entries.Values.OrderBy(entry => entry.Path, StringComparer.Ordinal).ToArray();
}
