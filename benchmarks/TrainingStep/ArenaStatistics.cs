using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// ONNX Runtime's CPU arena of a session: bytes it holds from the OS (TotalAllocated) and the most it had in use at
/// once (MaxInUse). The C API has <c>AllocatorGetStats</c> since 1.19, but the C# API does not wrap it, so this
/// calls it through the managed package's own table of the C API's functions (internal, hence reflection): a
/// benchmark's measurement, never something the trainer relies on.
/// </summary>
internal readonly record struct ArenaStatistics(long ReservedBytes, long PeakInUseBytes)
{
    public static ArenaStatistics operator +(ArenaStatistics a, ArenaStatistics b) =>
        new(a.ReservedBytes + b.ReservedBytes, a.PeakInUseBytes + b.PeakInUseBytes);

    /// <summary>The statistics of the session's CPU allocator; zero where it is no arena (it then reports none).</summary>
    public static unsafe ArenaStatistics Of(InferenceSession session)
    {
        using var memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
        using var allocator = new OrtAllocator(session, memory);
        var api = Api.Value;
        IntPtr pairs = IntPtr.Zero;
        Check(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)api.GetStats)(allocator.DangerousGetHandle(), &pairs));
        try
        {
            IntPtr keys = IntPtr.Zero, values = IntPtr.Zero;
            nuint count = 0;
            ((delegate* unmanaged<IntPtr, IntPtr*, IntPtr*, nuint*, void>)api.GetPairs)(pairs, &keys, &values, &count);
            var stats = new Dictionary<string, long>();
            for (int i = 0; i < (int)count; i++)
            {
                var key = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(keys, i * IntPtr.Size))!;
                var value = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(values, i * IntPtr.Size))!;
                if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) stats[key] = n;
            }
            return new ArenaStatistics(stats.GetValueOrDefault("TotalAllocated"), stats.GetValueOrDefault("MaxInUse"));
        }
        finally
        {
            ((delegate* unmanaged<IntPtr, void>)api.ReleasePairs)(pairs);
        }
    }

    private static unsafe void Check(IntPtr status)
    {
        if (status == IntPtr.Zero) return;
        var api = Api.Value;
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr, IntPtr>)api.GetErrorMessage)(status));
        ((delegate* unmanaged<IntPtr, void>)api.ReleaseStatus)(status);
        throw new InvalidOperationException("AllocatorGetStats: " + message);
    }

    private sealed record Functions(IntPtr GetStats, IntPtr GetPairs, IntPtr ReleasePairs, IntPtr GetErrorMessage, IntPtr ReleaseStatus);

    private static readonly Lazy<Functions> Api = new(() =>
    {
        var assembly = typeof(InferenceSession).Assembly;
        var table = assembly.GetType("Microsoft.ML.OnnxRuntime.NativeMethods")!
            .GetField("api_", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!.GetValue(null)!;
        IntPtr Function(string name) => (IntPtr)(table.GetType().GetField(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new MissingFieldException($"ONNX Runtime's C API table has no {name}")).GetValue(table)!;
        return new Functions(Function("AllocatorGetStats"), Function("GetKeyValuePairs"), Function("ReleaseKeyValuePairs"),
            Function("GetErrorMessage"), Function("ReleaseStatus"));
    });
}
