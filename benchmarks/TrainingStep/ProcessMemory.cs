using System.Globalization;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// This process's resident memory from /proc/self/status: VmRSS now and VmHWM, its high-water mark since the process
/// started. Each case runs in a fresh process (<see cref="StepServer"/>), so the mark is that case's peak and nothing
/// of an earlier case's memory is in it.
/// </summary>
internal static class ProcessMemory
{
    public static long ResidentBytes() => Read("VmRSS:");

    public static long PeakResidentBytes() => Read("VmHWM:");

    private static long Read(string key)
    {
        // "VmHWM:	  123456 kB"
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"/proc/self/status has no {key}");
        var kilobytes = line[key.Length..].Trim().Split(' ')[0];
        return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
    }
}
