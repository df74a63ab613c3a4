namespace OnnxTrainer.Inference;

/// <summary>Where ONNX Runtime runs the model.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU (always available).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU; needs the <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c> runtime, the NVIDIA driver, CUDA 13 and cuDNN 9
    /// (<see cref="CudaAvailability"/> says what is missing).</summary>
    Cuda,
}
