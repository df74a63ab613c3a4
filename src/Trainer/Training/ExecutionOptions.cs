using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Training;

/// <summary>Where and how ONNX Runtime runs the graphs; the one place sessions are configured.</summary>
public sealed record ExecutionOptions(string Device = "cpu", int Threads = 0)
{
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Threads > 0 ? Threads : Environment.ProcessorCount,
        };
        // The loop alternates several sessions (training, optimizer, eval, frozen prefix), each with its own thread
        // pool, beside the data loader's threads: a pool spin-waiting after its run takes the cores the next one
        // needs. Without spinning a 500-image fine-tune ran 3-5% faster here (2 cores; 253-303 vs 174-294 img/s).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        switch (Device)
        {
            case "cpu":
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
