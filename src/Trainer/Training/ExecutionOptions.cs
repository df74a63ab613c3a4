using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;

namespace OnnxTrainer.Training;

/// <summary>Where and how ONNX Runtime runs the graphs; the one place sessions are configured.</summary>
/// <param name="Threads">Threads per session; 0: one per core.</param>
/// <param name="Chunks">Chunks a training batch is split into, run at once (<see cref="DataParallelStep"/>); 0: as
/// <see cref="ChunkPolicy"/> chooses.</param>
/// <param name="DeviceResident">Keep parameters, gradients and optimizer state in tensors ONNX Runtime allocated on the
/// device (<see cref="DeviceTensors"/>), one training session, as CUDA always does; on the CPU this runs that path for
/// tests, since the CPU's own loop wraps host arrays instead and splits batches into chunks.</param>
/// <param name="Target">The formulations the graphs are built with; null: the device's (<see cref="ResolvedTarget"/>).</param>
public sealed record ExecutionOptions(string Device = ExecutionOptions.Cpu, int Threads = 0, int Chunks = 0, bool DeviceResident = false,
    ArtifactTarget? Target = null)
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    /// <summary>The devices <c>--device</c> accepts.</summary>
    public static readonly IReadOnlyList<string> Devices = [Cpu, Cuda];

    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Whether the loop keeps its tensors in device memory (<see cref="DeviceTensors"/>).</summary>
    public bool KeepsTensorsOnDevice => DeviceResident || Device != Cpu;

    /// <summary>The graphs' formulations: the CPU's rewrites on the CPU, the plain ones elsewhere until measured there.</summary>
    public ArtifactTarget ResolvedTarget => Target ?? (Device == Cpu ? ArtifactTarget.Cpu : ArtifactTarget.Plain);

    /// <summary>ONNX Runtime's execution provider for the device.</summary>
    public string ProviderName => Device == Cuda ? CudaAvailability.ProviderName : "CPUExecutionProvider";

    /// <summary>The memory where device-resident tensors live: the GPU's for CUDA, the host's for the CPU.</summary>
    public OrtMemoryInfo DeviceMemory() => Device == Cuda
        ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default)
        : OrtMemoryInfo.DefaultInstance;

    /// <param name="threads">Intra-op threads of this session instead of <see cref="ResolvedThreads"/>.</param>
    public SessionOptions CreateSessionOptions(int? threads = null)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads ?? ResolvedThreads,
            // No memory pattern: the pattern's one block for all of a run's tensors is allocated on the second run, after the
            // first has grown the arena tensor by tensor, and the arena keeps both, the first run's chunks never reused. A
            // training step is the worst case (every forward activation lives until the backward): ResNet-18 full fine-tuning
            // at 224 px, batch 16, peaked at 1570 MiB with it and 979 without, MobileNetV2's at 2244 and 1300, at the same step
            // time (BENCHMARKS.md, "Training step").
            EnableMemoryPattern = false,
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
