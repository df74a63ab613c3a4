using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Training;

/// <summary>
/// One ONNX Runtime intra-op thread pool, one thread per core, shared by the sessions that run on all cores: the
/// frozen prefix, the training graph in one chunk, the eval and optimizer graphs. A step runs several of them one
/// after another; with a pool each, every session's workers are woken in turn, and beside another busy process
/// (the PyTorch peer of the step benchmark) MobileNetV2's last-block step took 87-98 ms instead of 67-80 with the
/// shared pool (BENCHMARKS.md). The pool lives in ONNX Runtime's process-wide environment, so it exists only when
/// this creates that environment, before any other use of ONNX Runtime in the process; sessions with another thread
/// count (batch chunks, <c>--threads</c>) keep pools of their own.
/// </summary>
public static class SharedThreadPool
{
    private static readonly Lazy<int> Size = new(Create);

    /// <summary>Creates ONNX Runtime's environment with the shared pool, unless the environment already exists.</summary>
    /// <returns>The pool's thread count, or 0 where there is no shared pool.</returns>
    public static int EnsureCreated() => Size.Value;

    /// <summary>Makes a session use the shared pool if it asks for as many threads as the pool has.</summary>
    public static void UseIfSized(SessionOptions options, int threads)
    {
        if (threads == EnsureCreated()) options.DisablePerSessionThreads();
    }

    private static int Create()
    {
        if (OrtEnv.IsCreated) return 0;
        int threads = Environment.ProcessorCount;
        using var threading = new OrtThreadingOptions { GlobalIntraOpNumThreads = threads, GlobalInterOpNumThreads = 1, GlobalSpinControl = false };
        var options = new EnvironmentCreationOptions { threadOptions = threading };
        OrtEnv.CreateInstanceWithOptions(ref options);
        return threads;
    }
}
