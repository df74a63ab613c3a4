namespace OnnxTrainer.Inference;

/// <summary>Where ONNX Runtime runs the model.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU (always available).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU; needs the <c>Microsoft.ML.OnnxRuntime.Gpu</c> runtime and CUDA on the machine.</summary>
    Cuda,
}
