using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Cli;
using OnnxTrainer.Inference;
using Xunit;

namespace OnnxTrainer.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class TrainCommandTests
{
    [Theory]
    [InlineData("--chunks")]
    [InlineData("--threads")]
    public void Train_NegativeCount_RejectedBeforeTheRecipeIsRead(string option)
    {
        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", option, "-1");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains($"{option} must be 0", error);
        Assert.DoesNotContain("no-such-recipe", error);
    }

    [Fact]
    public void Train_UnknownDevice_UsageError()
    {
        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", "--device", "tpu");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("tpu", error);
        Assert.DoesNotContain("no-such-recipe", error);
    }

    [Fact]
    public void Train_CudaWithTheCpuPackage_OneLineNamingTheGpuPackage()
    {
        if (OrtEnv.Instance().GetAvailableProviders().Contains(CudaAvailability.ProviderName)) return; // a GPU build: see CudaAvailabilityTests

        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", "--device", "cuda");

        Assert.Equal(CommandLine.BadInput, code);
        Assert.Equal($"error: --device cuda: this ONNX Runtime build has no CUDA execution provider (it is the CPU package): use {CudaAvailability.GpuPackage} " +
            $"(onnx-trainer: build with -p:OnnxRuntimePackage={CudaAvailability.GpuPackage})", error.Trim());
    }
}
