using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Inference;

/// <summary>
/// Says, before any session asks ONNX Runtime's CUDA execution provider for the GPU, what is missing for it on this
/// machine: the provider in the ONNX Runtime build, the NVIDIA driver, or the CUDA 13 / cuDNN 9 libraries that
/// <c>libonnxruntime_providers_cuda.so</c> (1.32) links or loads. ONNX Runtime's own failures here are a stack of
/// native messages, or a silent CPU fallback; a user needs one line naming the missing piece and how to get it.
/// </summary>
public static class CudaAvailability
{
    /// <summary>ONNX Runtime's name for the provider.</summary>
    public const string ProviderName = "CUDAExecutionProvider";

    /// <summary>The ONNX Runtime package with the CUDA provider (CUDA 13, cuDNN 9).</summary>
    public const string GpuPackage = "Microsoft.ML.OnnxRuntime.Gpu.Linux";

    /// <summary>The NVIDIA driver's user-space library, which every CUDA program loads.</summary>
    public const string DriverLibrary = "libcuda.so.1";

    /// <summary>The libraries the CUDA provider needs (its NEEDED entries, and cuDNN, which it opens at run time), with
    /// what to install where one is missing.</summary>
    public static readonly IReadOnlyList<(string Library, string Remedy)> Libraries =
    [
        ("libcudart.so.13", "the CUDA 13 runtime (cuda-cudart-13-0, or the nvidia-cuda-runtime wheel)"),
        ("libcublas.so.13", "CUDA 13 cuBLAS (libcublas-13-0, or the nvidia-cublas wheel)"),
        ("libcublasLt.so.13", "CUDA 13 cuBLAS (libcublas-13-0, or the nvidia-cublas wheel)"),
        ("libcurand.so.10", "CUDA 13 cuRAND (libcurand-13-0, or the nvidia-curand wheel)"),
        ("libcudnn.so.9", "cuDNN 9 for CUDA 13 (cudnn9-cuda-13, or the nvidia-cudnn-cu13 wheel)"),
    ];

    /// <summary>What keeps the CUDA provider from running on this machine, in one line; null when nothing is missing.</summary>
    public static string? Problem() =>
        Problem(OrtEnv.Instance().GetAvailableProviders(), library => NativeLibrary.TryLoad(library, out _));

    /// <param name="providers">The execution providers in the ONNX Runtime build.</param>
    /// <param name="canLoad">Whether the dynamic loader finds a library by its soname (the way the provider loads it).</param>
    public static string? Problem(IReadOnlyCollection<string> providers, Func<string, bool> canLoad)
    {
        if (!providers.Contains(ProviderName))
        {
            return $"this ONNX Runtime build has no CUDA execution provider (it is the CPU package): use {GpuPackage} " +
                $"(onnx-trainer: build with -p:OnnxRuntimePackage={GpuPackage})";
        }
        if (!canLoad(DriverLibrary))
            return $"no NVIDIA driver ({DriverLibrary} not found): install the NVIDIA driver (CUDA 13 needs 580 or newer)";
        foreach (var (library, remedy) in Libraries)
        {
            if (!canLoad(library))
                return $"{library} not found: install {remedy} and put its lib folder on LD_LIBRARY_PATH";
        }
        return null;
    }
}
