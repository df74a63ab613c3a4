using System.Globalization;

namespace OnnxTrainer.Training;

/// <summary>
/// The memory a run may use on this machine: MemAvailable from /proc/meminfo, or what the process's cgroup still allows
/// where that is less (containers), or the bytes set in <see cref="LimitVariable"/>, which overrides both.
/// </summary>
/// <param name="Source">Where the figure comes from, for messages ("MemAvailable", "cgroup limit", the variable).</param>
public sealed record AvailableMemory(long Bytes, string Source)
{
    /// <summary>Environment variable with the bytes a run may use (suffixes K, M, G allowed, powers of 1024).</summary>
    public const string LimitVariable = "ONNX_TRAINER_MEMORY_LIMIT";

    /// <summary>This machine's available memory; null where it cannot be told (not Linux).</summary>
    public static AvailableMemory? Read() => Read(Environment.GetEnvironmentVariable(LimitVariable), ReadFile);

    /// <param name="limit">The value of <see cref="LimitVariable"/>, if set.</param>
    /// <param name="readFile">Reads a file of /proc or /sys; null where it does not exist.</param>
    internal static AvailableMemory? Read(string? limit, Func<string, string?> readFile)
    {
        if (!string.IsNullOrWhiteSpace(limit))
            return new AvailableMemory(ParseBytes(limit) ?? throw new MemoryBudgetException($"{LimitVariable}='{limit}' is not a number of bytes (e.g. 4G)"), LimitVariable);
        AvailableMemory? available = MemAvailable(readFile("/proc/meminfo")) is { } bytes ? new(bytes, "MemAvailable") : null;
        if (CgroupRemaining(readFile) is { } remaining && (available is null || remaining < available.Bytes))
            available = new AvailableMemory(remaining, "cgroup limit");
        return available;
    }

    private static long? MemAvailable(string? meminfo)
    {
        // "MemAvailable:   23662000 kB"
        var line = meminfo?.Split('\n').FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return line is null ? null : ParseBytes(line["MemAvailable:".Length..].Replace("kB", "K", StringComparison.Ordinal));
    }

    /// <summary>The cgroup's limit less its usage (v2, else v1); null where there is no limit.</summary>
    private static long? CgroupRemaining(Func<string, string?> readFile)
    {
        foreach (var (limitFile, usageFile) in new[] { ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes") })
        {
            // v2 says "max" where there is no limit; v1 a number near 2^63.
            if (ParseBytes(readFile(limitFile)) is not { } limit || limit >= long.MaxValue / 2) continue;
            return Math.Max(0, limit - (ParseBytes(readFile(usageFile)) ?? 0));
        }
        return null;
    }

    /// <summary>"4294967296", "4096M", "4G", "23662000 K"; null for anything else.</summary>
    private static long? ParseBytes(string? text)
    {
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value)) return null;
        int shift = char.ToUpperInvariant(value[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift > 0) value = value[..^1].TrimEnd();
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= long.MaxValue >> shift ? n << shift : null;
    }

    private static string? ReadFile(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
