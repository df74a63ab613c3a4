using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Inference;

namespace OnnxTrainer.Training;

/// <summary>Where and how ONNX Runtime runs the graphs; the one place sessions are configured.</summary>
/// <param name="Threads">Threads per session; 0: one per core.</param>
/// <param name="Chunks">Chunks a training batch is split into, run at once (<see cref="DataParallelStep"/>); 0: as
/// <see cref="ChunkPolicy"/> chooses.</param>
public sealed record ExecutionOptions(string Device = ExecutionOptions.Cpu, int Threads = 0, int Chunks = 0)
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    /// <summary>The devices <c>--device</c> accepts.</summary>
    public static readonly IReadOnlyList<string> Devices = [Cpu, Cuda];

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
            case Cpu:
                SharedThreadPool.UseIfSized(options, threads ?? ResolvedThreads);
                break;
            case Cuda:
                EnsureAvailable();
                try
                {
                    options.AppendExecutionProvider_CUDA();
                }
                catch (OnnxRuntimeException e)
                {
                    options.Dispose();
                    throw new ExecutionProviderUnavailableException($"--device cuda: CUDA could not be initialized ({e.Message.ReplaceLineEndings(" ")})", e);
                }
                break;
            default:
                options.Dispose();
                throw new ArgumentException($"unknown device '{Device}' (expected {string.Join(" or ", Devices)})");
        }
        return options;
    }

    /// <summary>Throws <see cref="ExecutionProviderUnavailableException"/>, naming what is missing, where the device cannot run here.</summary>
    public void EnsureAvailable()
    {
        // No silent CPU fallback: a user who asked for the GPU must learn what keeps it from being used.
        if (Device == Cuda && CudaAvailability.Problem() is { } problem)
            throw new ExecutionProviderUnavailableException($"--device cuda: {problem}");
    }
}
