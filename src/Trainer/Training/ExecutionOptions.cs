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
