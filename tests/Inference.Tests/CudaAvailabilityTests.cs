using Xunit;

namespace OnnxTrainer.Inference.Tests;

public class CudaAvailabilityTests
{
    private static readonly string[] GpuBuild = ["CUDAExecutionProvider", "CPUExecutionProvider"];

    [Fact]
    public void Problem_CpuBuild_NamesTheGpuPackage()
    {
        var problem = CudaAvailability.Problem(["CPUExecutionProvider"], _ => true);
        Assert.Contains("no CUDA execution provider", problem);
        Assert.Contains("-p:OnnxRuntimePackage=Microsoft.ML.OnnxRuntime.Gpu.Linux", problem);
    }

    [Fact]
    public void Problem_NoDriver_SaysInstallTheDriver()
    {
        var problem = CudaAvailability.Problem(GpuBuild, library => library != "libcuda.so.1");
        Assert.StartsWith("no NVIDIA driver (libcuda.so.1 not found)", problem);
    }

    [Theory]
    [InlineData("libcublasLt.so.13", "cuBLAS")]
    [InlineData("libcudart.so.13", "CUDA 13 runtime")]
    [InlineData("libcudnn.so.9", "cuDNN 9")]
    public void Problem_MissingLibrary_NamesItAndWhatToInstall(string missing, string remedy)
    {
        var problem = CudaAvailability.Problem(GpuBuild, library => library != missing);
        Assert.StartsWith($"{missing} not found: install", problem);
        Assert.Contains(remedy, problem);
        Assert.Contains("LD_LIBRARY_PATH", problem);
    }

    [Fact]
    public void Problem_EverythingThere_Null()
    {
        Assert.Null(CudaAvailability.Problem(GpuBuild, _ => true));
    }

    [Fact]
    public void Problem_ThisMachine_ConsistentWithTheBuild()
    {
        // CI has the CPU package: the first check must say so; a GPU build here gets past it.
        var cpuBuild = !Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains(CudaAvailability.ProviderName);
        var problem = CudaAvailability.Problem();
        if (cpuBuild) Assert.Contains("no CUDA execution provider", problem);
        else Assert.DoesNotContain("no CUDA execution provider", problem ?? "");
    }
}
