using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Training;

/// <summary>Where and how ONNX Runtime runs the graphs; the one place sessions are configured.</summary>
/// <param name="Threads">Threads per session; 0: one per core.</param>
/// <param name="Chunks">Chunks a training batch is split into, run at once (<see cref="DataParallelStep"/>); 0: as
/// <see cref="ChunkPolicy"/> chooses.</param>
public sealed record ExecutionOptions(string Device = "cpu", int Threads = 0, int Chunks = 0)
{
    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <param name="threads">Intra-op threads of this session instead of <see cref="ResolvedThreads"/>.</param>
    public SessionOptions CreateSessionOptions(int? threads = null)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads ?? ResolvedThreads,
        };
        // The loop alternates several sessions (training, optimizer, eval, frozen prefix) beside the data loader's
        // threads: a pool spin-waiting after its run takes the cores the next one needs. Without spinning a 500-image
        // fine-tune ran 3-5% faster here (2 cores; 253-303 vs 174-294 img/s).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        switch (Device)
        {
            case "cpu":
                SharedThreadPool.UseIfSized(options, threads ?? ResolvedThreads);
                break;
            case "cuda":
                // No silent CPU fallback: a user who asked for the GPU must learn that this build lacks it.
                if (!OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
                {
                    options.Dispose();
                    throw new InvalidOperationException("--device cuda: this ONNX Runtime build has no CUDA execution provider " +
                        "(build with -p:OnnxRuntimePackage=Microsoft.ML.OnnxRuntime.Gpu on a machine with CUDA)");
                }
                options.AppendExecutionProvider_CUDA();
                break;
            default:
                options.Dispose();
                throw new ArgumentException($"unknown device '{Device}' (expected cpu or cuda)");
        }
        return options;
    }
}
